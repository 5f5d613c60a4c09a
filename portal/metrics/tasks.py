"""Count and time every Celery task, from Celery's own signals (connected in portal.celery)."""

from __future__ import annotations

import time
from typing import Any

from celery import signals

from portal.metrics.instruments import TASK_SECONDS, TASKS

_started: dict[str, float] = {}


@signals.task_prerun.connect
def _started_task(task_id: str | None = None, **_: Any) -> None:
    if task_id:
        _started[task_id] = time.perf_counter()


@signals.task_postrun.connect
def _finished_task(
    task_id: str | None = None, task: Any = None, state: str | None = None, **_: Any
) -> None:
    started = _started.pop(task_id or "", None)
    name = getattr(task, "name", "unknown")
    if started is not None:
        TASK_SECONDS.labels(name).observe(time.perf_counter() - started)
    outcome = {"SUCCESS": "succeeded", "FAILURE": "failed", "RETRY": "retried"}.get(
        state or "", "other"
    )
    TASKS.labels(name, outcome).inc()
