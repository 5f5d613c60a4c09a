"""The id of the request being served, so audit events can be traced to log lines.

A task sent while serving a request carries the id in its message (portal/task_context.py),
so the worker's log lines and audit events name the request that caused them.
"""

import re
import uuid
from contextvars import ContextVar

_current: ContextVar[str] = ContextVar("handoff_request_id", default="")
_ACCEPTED = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def current_request_id() -> str:
    return _current.get()


def begin_request(header_value: str | None) -> str:
    """Adopt the proxy's X-Request-ID when it is sane, otherwise mint one."""
    request_id = header_value if header_value and _ACCEPTED.match(header_value) else ""
    request_id = request_id or uuid.uuid4().hex
    _current.set(request_id)
    return request_id


def adopt_request_id(value: object) -> str:
    """Make a carried id current (a task's message header); an odd or missing one clears it.

    Unlike ``begin_request`` nothing is minted: work that no request caused has no id.
    """
    request_id = value if isinstance(value, str) and _ACCEPTED.match(value) else ""
    _current.set(request_id)
    return request_id


def end_request() -> None:
    _current.set("")
