"""A task runs under the id of the request that sent it, and logs like the web process.

The sending process puts the current request id in the task message's headers; a worker makes
it current while the task runs, so the task's log lines (portal/log_format.py) and audit events
name that request. Celery copies a message's headers into the task's request context, so a
custom header reads as ``task.request.get(HEADER)``. An eager task (tests, the embedded
default) runs inside its sender and simply inherits the sender's id, so it is left alone.

portal/celery.py connects these, so every process (web, worker, beat) has them before it sends
or runs a task.
"""

from __future__ import annotations

from typing import Any

from celery import Task, signals

from portal.request_id import adopt_request_id, current_request_id, end_request

HEADER = "handoff_request_id"


def add_request_id_header(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """before_task_publish: a task sent while serving a request carries the request's id."""
    request_id = current_request_id()
    if request_id and headers is not None:
        headers[HEADER] = request_id


def adopt_task_request_id(task: Task | None = None, **_: Any) -> None:
    """task_prerun: on a worker, the id the message carried is current (none: no id)."""
    if task is not None and not task.request.is_eager:
        adopt_request_id(task.request.get(HEADER))


def clear_task_request_id(task: Task | None = None, **_: Any) -> None:
    """task_postrun: the next task this worker runs starts without it."""
    if task is not None and not task.request.is_eager:
        end_request()


def use_django_logging(**_: Any) -> None:
    """setup_logging: workers and beat log through settings.LOGGING, as the web process does.

    While this signal has a receiver Celery installs no handlers or format of its own (which
    would drop the request id filter and the JSON format); a worker's --loglevel is then
    ignored in favour of HANDOFF_LOG_LEVEL.
    """
    from django.conf import settings
    from django.utils.log import configure_logging

    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)


def connect() -> None:
    signals.before_task_publish.connect(add_request_id_header, dispatch_uid=HEADER)
    signals.task_prerun.connect(adopt_task_request_id, dispatch_uid=HEADER)
    signals.task_postrun.connect(clear_task_request_id, dispatch_uid=HEADER)
    signals.setup_logging.connect(use_django_logging, dispatch_uid=HEADER)
