"""Every websocket close code the server sends, in one place (documented in docs/api.md).

Applications may only send 1000 and 3000-4999; 1009 and 1012 come from the transport
(daphne's frame limit, and our graceful shutdown's own close frame).
"""

from __future__ import annotations

from enum import IntEnum


class CloseCode(IntEnum):
    MESSAGE_TOO_BIG = 1009  # daphne: a message over the socket kind's transport limit
    SERVICE_RESTART = 1012  # graceful shutdown: reconnect (to another worker) at once
    BAD_FRAME = 4400  # a malformed or unexpected frame
    UNAUTHENTICATED = 4401  # no valid session or token (or it was revoked)
    FORBIDDEN = 4403  # no access to the object, or an origin not allowed
    NOT_FOUND = 4404  # no such object (or it was deleted), or no such websocket path
    TOO_BIG = 4413  # a frame over the socket kind's limit (when daphne's limit is larger)
    TOO_MANY_REQUESTS = 4429  # too many full-state requests
    UNAVAILABLE = 4500  # the server failed or a service it needs is down: retry later
    BUSY = 4503  # this worker is full or admitting at its rate: retry later, with back-off
    OUTBOX_FULL = 4507  # edits cannot be stored right now (the database is down): retry later

    @property
    def retryable(self) -> bool:
        return self in RETRYABLE


RETRYABLE = frozenset(
    {CloseCode.SERVICE_RESTART, CloseCode.UNAVAILABLE, CloseCode.BUSY, CloseCode.OUTBOX_FULL}
)
