"""Database sessions that ignore a session cookie Django could never have issued.

Django's session keys are 32 lowercase letters and digits, but the database backend puts
whatever the cookie holds into a query: a NUL in the cookie made PostgreSQL fail the
request. A key that is not of our alphabet is treated as no session at all.
"""

from __future__ import annotations

import re

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

_SESSION_KEY = re.compile(r"[a-z0-9]{8,64}")


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key: str | None) -> bool:
        return bool(key) and _SESSION_KEY.fullmatch(key or "") is not None
