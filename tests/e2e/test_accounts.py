"""Account features through real daphne workers: the password-reset e-mail (sent to a local
SMTP server) and the websockets of sessions that are ended (closed with 4401)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from collab.realtime.close_codes import CloseCode
from tests.e2e.accountclient import Browser, close_code
from tests.e2e.servers import Worker
from tests.e2e.smtp import SmtpServer

pytestmark = pytest.mark.e2e

StartWorker = Callable[..., Worker]
PASSWORD = "Sturdy-pass-42"
NEW_PASSWORD = "Another-strong-77"
FAST_CHECKS = {"COLLAB_ACCESS_CHECK_SECONDS": "0.5", "COLLAB_CHAT_CHECK_SECONDS": "0.5"}


def register(worker: Worker, prefix: str, email: str = "") -> str:
    username = f"{prefix}{uuid.uuid4().hex[:6]}"
    status, body = worker.request(
        "POST", "/api/auth/register", {"username": username, "password": PASSWORD, "email": email}
    )
    assert status == 201, body
    return username


def document_of(browser: Browser) -> str:
    status, body = browser.request("POST", "/api/documents", {"title": "Notes"})
    assert status == 201, body
    document_id: str = body["id"]
    return document_id


def test_password_reset_by_email_through_real_workers(
    start_worker: StartWorker, smtp_server: SmtpServer
) -> None:
    # INFO: the worker logs that it sent the mail, and must not log the link.
    worker = start_worker(**smtp_server.env, **FAST_CHECKS, LOG_LEVEL="INFO")
    address = f"ada-{uuid.uuid4().hex[:6]}@Example.com"
    username = register(worker, "ada", address)
    laptop = Browser(worker).login(username, PASSWORD)
    document_id = document_of(laptop)
    socket = laptop.socket(f"/ws/docs/{document_id}")
    assert close_code(socket, 0.5) is None

    known = worker.request("POST", "/api/auth/password-reset", {"email": address.upper()})
    unknown = worker.request("POST", "/api/auth/password-reset", {"email": "nobody@example.com"})
    assert known == unknown and known[0] == 202

    link = smtp_server.reset_link(address)
    mail = smtp_server.wait_for(address)
    assert link.startswith(f"{worker.http_base}/reset-password/")
    assert link in mail.html and mail.message["From"] == "collab-test@example.com"
    assert mail.message["To"].lower() == address.lower()
    uid, token = link.rsplit("/", 2)[1:]

    status, _ = worker.request(
        "POST", "/api/auth/password-reset/confirm", {"uid": uid, "token": token, "new_password": NEW_PASSWORD}
    )
    assert status == 204
    # Every session ended: the open page is signed out and its socket closed as for a revoked token.
    assert close_code(socket, 10) == CloseCode.UNAUTHENTICATED
    assert not laptop.signed_in()
    assert Browser(worker).login(username, NEW_PASSWORD).signed_in()
    status, _ = worker.request("POST", "/api/auth/token", {"username": username, "password": PASSWORD})
    assert status == 401
    again = worker.request(
        "POST",
        "/api/auth/password-reset/confirm",
        {"uid": uid, "token": token, "new_password": "Third-pass-99"},
    )
    assert again[0] == 400 and again[1]["code"] == "invalid_reset_link"

    assert smtp_server.to("nobody@example.com") == []
    assert "password reset e-mail sent to user" in worker.log_path.read_text(errors="replace")
    log = worker.log_path.read_text(errors="replace")
    assert token not in log and "reset-password/" not in log


def test_ending_a_session_closes_its_sockets_and_a_password_change_keeps_this_one(
    start_worker: StartWorker,
) -> None:
    worker = start_worker(**FAST_CHECKS)
    username = register(worker, "bo")
    laptop = Browser(worker, "Laptop/1.0").login(username, PASSWORD)
    phone = Browser(worker, "Phone/1.0").login(username, PASSWORD)
    document_id = document_of(laptop)
    phone_doc = phone.socket(f"/ws/docs/{document_id}")
    phone_inbox = phone.socket("/ws/chat")
    laptop_doc = laptop.socket(f"/ws/docs/{document_id}")
    assert close_code(phone_doc, 0.5) is None

    status, _ = laptop.request("DELETE", f"/api/auth/sessions/{phone.current_session()}")
    assert status == 204
    assert close_code(phone_doc, 10) == CloseCode.UNAUTHENTICATED
    assert close_code(phone_inbox, 10) == CloseCode.UNAUTHENTICATED
    assert not phone.signed_in()

    tablet = Browser(worker, "Tablet/1.0").login(username, PASSWORD)
    tablet_doc = tablet.socket(f"/ws/docs/{document_id}")
    laptop_session = laptop.current_session()
    status, body = laptop.request(
        "POST", "/api/auth/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert status == 204, body
    assert close_code(tablet_doc, 10) == CloseCode.UNAUTHENTICATED
    # The laptop's session key changed with the password, its record and sockets did not.
    assert close_code(laptop_doc, 3) is None
    assert laptop.signed_in() and laptop.current_session() == laptop_session
    laptop_doc.close()
