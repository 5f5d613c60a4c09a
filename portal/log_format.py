"""Log lines for people (plain) or for a log collector (json), each naming its request and task.

settings.LOGGING puts ``RequestContextFilter`` on the console handler and picks the formatter
from HANDOFF_LOG_FORMAT. Celery processes log through the same configuration
(portal/task_context.py keeps Celery from installing its own).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from celery._state import get_current_task

from portal.request_id import current_request_id

NO_REQUEST = "-"


class RequestContextFilter(logging.Filter):
    """Put the current request id ("-" when none) and Celery task on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or NO_REQUEST
        # The same lookup Celery's own TaskFormatter makes; None outside a task.
        task = get_current_task()
        record.task_id = (task.request.id or "") if task is not None else ""
        record.task_name = task.name if task is not None else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, ids, exception text."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.utc_time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "task_id", "task_name"):
            value = getattr(record, key, "")
            if value and value != NO_REQUEST:
                entry[key] = value
        if record.exc_info:
            # Cached on the record like logging.Formatter does, for any other handler.
            record.exc_text = record.exc_text or self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry)

    @staticmethod
    def utc_time(record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, tz=UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
