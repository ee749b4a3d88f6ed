"""A local SMTP server for end-to-end tests (aiosmtpd): what the workers send, kept for reading.

    with SmtpServer() as smtp:
        worker = start_worker(**smtp.env)       # and the Celery worker: start_celery_worker(**smtp.env)
        ...
        link = smtp.reset_link("ada@example.com")   # waits for the mail; the link in its last one

Also a fixture: `smtp_server` (tests/e2e/conftest.py). `messages` holds every received
mail as an `email.message.EmailMessage` (with its envelope recipients in `rcpt_tos`).
"""

from __future__ import annotations

import email
import email.policy
import re
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.e2e.servers import free_port

RESET_LINK = re.compile(r"https?://[^\s\"'<>]+/reset-password/[A-Za-z0-9_-]+/[A-Za-z0-9-]+")


@dataclass
class Received:
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return str(part.get_content()) if part is not None else ""

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return str(part.get_content()) if part is not None else ""


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        message = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=email.policy.default
        )
        assert isinstance(message, EmailMessage)
        self.server.add(Received([str(rcpt) for rcpt in envelope.rcpt_tos], message))
        return "250 OK"


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[Received] = []
        self._changed = threading.Condition()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    @property
    def env(self) -> dict[str, str]:
        """The workers' e-mail settings for this server."""
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.port),
            "EMAIL_USE_TLS": "0",
            "EMAIL_USE_SSL": "0",
            "DEFAULT_FROM_EMAIL": "collab-test@example.com",
        }

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add(self, received: Received) -> None:
        with self._changed:
            self.messages.append(received)
            self._changed.notify_all()

    def to(self, address: str) -> list[Received]:
        """The mails received for this address (case-insensitively), oldest first."""
        wanted = address.lower()
        with self._changed:
            return [mail for mail in self.messages if wanted in (rcpt.lower() for rcpt in mail.rcpt_tos)]

    def wait_for(self, address: str, count: int = 1, timeout: float = 30.0) -> Received:
        """The last mail to `address` once at least `count` have arrived."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.to(address)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"no mail to {address} within {timeout} s ({len(self.messages)} received)"
                    )
                self._changed.wait(left)
            return self.to(address)[-1]

    def reset_link(self, address: str, count: int = 1, timeout: float = 30.0) -> str:
        """The password-reset link in the last mail to `address` (waiting for it)."""
        mail = self.wait_for(address, count, timeout)
        found = RESET_LINK.search(mail.text)
        if found is None:
            raise AssertionError(f"no reset link in the mail to {address}:\n{mail.text}")
        return found.group(0)
