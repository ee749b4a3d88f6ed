"""Django's database session engine, with the record of each signed-in session kept in step.

`SESSION_ENGINE = "collab.accounts.session_store"`. A session's key changes when its user
logs in or changes their password (`cycle_key`); the record (collab.models.UserSession,
see collab.accounts.sessions) follows the new key, so the session keeps its id, its
websockets stay open, and ending it from another browser still finds it. Deleting a
session (logout, ending it, `clearsessions`) deletes its record.
"""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session

from collab.models import UserSession


class SessionStore(DatabaseSessionStore):
    def cycle_key(self) -> None:
        data = self._session  # type: ignore[attr-defined]
        key = self.session_key
        self.create()
        self._session_cache = data
        if key:
            UserSession.objects.filter(session_key=key).update(session_key=self.session_key)
            super().delete(key)

    def delete(self, session_key: str | None = None) -> None:
        key = session_key or self.session_key
        super().delete(session_key)
        if key:
            UserSession.objects.filter(session_key=key).delete()

    @classmethod
    def clear_expired(cls) -> None:
        super().clear_expired()
        UserSession.objects.exclude(session_key__in=Session.objects.values("session_key")).delete()
