"""Real Celery worker processes for the integration tests: start, watch, stop, clean up."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import quote

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).parent / "celery"
TASK_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def database_url() -> str:
    """A URL for the test database; at this point NAME is the test database's name."""
    db = settings.DATABASES["default"]
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(db['NAME'], safe='')}"


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    queue: str
    log: IO[bytes]

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")

    def wait_until_ready(self) -> None:
        """Wait for Celery's "ready." line: the worker consumes from its queue."""
        deadline = time.monotonic() + TASK_TIMEOUT
        while " ready." not in self.output():
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited with {self.process.returncode}:\n{self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the worker was not ready after {TASK_TIMEOUT:.0f}s:\n{self.output()}")
            time.sleep(0.25)


def forget_queue(name: str) -> None:
    """Remove the test queue and its binding from the broker (never a FLUSH)."""
    from kombu import Exchange, Queue

    from portal.celery import app

    try:
        with app.connection_for_write() as conn:
            # The queue Celery made for ``queue=name``: a direct exchange of the same name.
            queue = Queue(name, Exchange(name), routing_key=name)(conn.default_channel)
            queue.declare()
            queue.delete()
    except Exception:  # cleanup only: a leftover empty queue is harmless
        pass


def stop(worker: Worker) -> None:
    """Ask the worker to stop; kill it if it does not within STOP_TIMEOUT."""
    end_process(worker.process)


def end_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if the process is still there after STOP_TIMEOUT."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)
