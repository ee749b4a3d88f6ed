"""Keep passwords and tokens out of the logs.

What could print them: a websocket or HTTP URL with `?token=...` (Django's and
Channels' development-server request lines, daphne's access log for HTTP, which
writes the full URI; for websockets daphne logs the path without its query),
an `Authorization: Bearer ...` header, a request body with a `password` (or
`current_password`, `new_password`) field in an error message, or a password-reset
link (`/reset-password/<uid>/<token>`, e.g. a "Not Found" line for a mistyped one).
`RedactSecretsFilter` rewrites every record that reaches the configured handlers
(settings.LOGGING), and, when it is created, also wraps daphne's access log writer,
which prints to stdout without going through `logging`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[redacted]"

_SECRET_NAMES = (
    r"(?:token|access_token|api_key|apikey|(?:current_|new_|old_)?password|passwd|secret|session_?id"
    r"|csrfmiddlewaretoken)"
)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # query strings and form bodies: ?token=abc&x=1, password=hunter2
    (re.compile(rf"(?i)(\b{_SECRET_NAMES}=)[^&\s\"'#;]+"), rf"\1{REDACTED}"),
    # JSON or Python reprs: "password": "x", 'token': 'y'
    (
        re.compile(rf"(?i)([\"']{_SECRET_NAMES}[\"']\s*:\s*)([\"'])(?:\\.|(?!\2).)*\2"),
        rf"\1\2{REDACTED}\2",
    ),
    # headers: Authorization: Bearer abc / ('authorization', 'Bearer abc') / b'Bearer abc'
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]+"), rf"\1\2{REDACTED}"),
    # password-reset links: /reset-password/<uid>/<token>
    (re.compile(r"(/reset-password/)[^\s?#\"']+"), rf"\1{REDACTED}"),
)


def redact(text: str) -> str:
    """`text` with the values of secret-looking parameters, fields and headers replaced."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """A handler filter: formats the record's message once, redacted; never drops a record."""

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        install_daphne_access_log_redaction()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True  # a broken record: let logging report it as it would
        redacted = redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_daphne_patched = False


def install_daphne_access_log_redaction() -> None:
    """Wrap daphne's access log writer (idempotent; a no-op without daphne)."""
    global _daphne_patched
    if _daphne_patched:
        return
    try:
        from daphne.access import AccessLogGenerator
    except ImportError:  # pragma: no cover - daphne is a dependency
        return
    original = AccessLogGenerator.write_entry

    def write_entry(self: Any, host: Any, date: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        return original(self, host, date, redact(str(request)), *args, **kwargs)

    AccessLogGenerator.write_entry = write_entry
    _daphne_patched = True
