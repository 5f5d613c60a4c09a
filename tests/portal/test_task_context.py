"""A task sent while serving a request runs under that request's id, on a worker or eagerly."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Task
from celery.worker.request import Request
from kombu import Connection

from portal.celery import app
from portal.models import AuditEvent
from portal.request_id import begin_request, current_request_id, end_request
from portal.task_context import (
    HEADER,
    add_request_id_header,
    adopt_task_request_id,
    clear_task_request_id,
)
from portal.tasks import record_worker_heartbeat_task
from registry.services.models import create_model
from registry.services.versions import create_version
from tests.registry import onnx_files


@pytest.fixture
def heartbeat() -> Iterator[Task]:
    """The heartbeat task, with its request context popped again after the test."""
    task: Task = app.tasks[record_worker_heartbeat_task.name]
    depth = len(task.request_stack.stack)
    yield task
    while len(task.request_stack.stack) > depth:
        task.pop_request()
    end_request()


# The handlers, called directly ---------------------------------------------------------


def test_a_message_sent_while_serving_a_request_carries_its_id(serving_request: str) -> None:
    headers: dict[str, Any] = {"id": "t-1", "task": record_worker_heartbeat_task.name}

    add_request_id_header(headers=headers, body=((), {}, {}), exchange="", routing_key="q")

    assert headers[HEADER] == "abc-123"


def test_a_message_sent_outside_a_request_carries_none() -> None:
    headers: dict[str, Any] = {"id": "t-1"}

    add_request_id_header(headers=headers)

    assert HEADER not in headers


def test_prerun_makes_the_carried_id_current_and_postrun_clears_it(heartbeat: Task) -> None:
    """On a worker: the header becomes the current id for the run, and is gone after it."""
    heartbeat.push_request(id="t-1", **{HEADER: "abc-123"})

    adopt_task_request_id(task_id="t-1", task=heartbeat)
    assert current_request_id() == "abc-123"
    clear_task_request_id(task_id="t-1", task=heartbeat)
    assert current_request_id() == ""


def test_a_task_without_the_header_runs_without_an_id(heartbeat: Task) -> None:
    """A stale id left in the worker, or an odd header value, never names the run."""
    begin_request("left-over")
    heartbeat.push_request(id="t-1", **{HEADER: "<script>alert(1)</script>"})

    adopt_task_request_id(task_id="t-1", task=heartbeat)

    assert current_request_id() == ""


def test_an_eager_task_keeps_the_id_of_the_request_it_runs_in(
    heartbeat: Task, serving_request: str
) -> None:
    """Eager tasks run inside the sender: no header to read, and the request goes on after."""
    heartbeat.push_request(id="t-1", is_eager=True)

    adopt_task_request_id(task_id="t-1", task=heartbeat)
    assert current_request_id() == "abc-123"
    clear_task_request_id(task_id="t-1", task=heartbeat)
    assert current_request_id() == "abc-123"


# Through a broker and a worker's request, in this process --------------------------------


@pytest.fixture
def broker(settings: Any) -> Iterator[Connection]:
    """An in-memory broker; apply_async publishes to it instead of running the task."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with app.connection_for_write("memory://") as connection:
        yield connection


def _send(broker: Connection, *, request_id: str) -> Any:
    """Send the heartbeat task as a page serving ``request_id`` would; returns the message."""
    queue = f"handoff-test-{uuid.uuid4().hex[:12]}"
    begin_request(request_id)
    try:
        record_worker_heartbeat_task.apply_async(
            kwargs={"hostname": "test-host"}, connection=broker, queue=queue
        )
    finally:
        end_request()
    return broker.SimpleQueue(queue).get(timeout=1)


def test_a_worker_runs_a_task_under_the_id_of_the_request_that_sent_it(
    db: None, broker: Connection, json_log: Any
) -> None:
    # given: a task sent while serving a request
    message = _send(broker, request_id="abc-123")
    assert message.headers[HEADER] == "abc-123"

    # when: a worker runs it, as Celery's worker does with a received message
    Request(message, app=app, task=app.tasks[message.headers["task"]]).execute()

    # then: Celery's own log line of the run names the request and the task
    [done] = [line for line in json_log() if line["logger"] == "celery.app.trace"]
    assert "succeeded" in done["message"]
    assert done["request_id"] == "abc-123"
    assert done["task_id"] == message.headers["id"]
    assert done["task_name"] == record_worker_heartbeat_task.name
    assert current_request_id() == ""  # the next task starts clean


# A real page that enqueues a task, with eager tasks ------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_uploads_eager_validation_records_the_uploads_request_id(
    client_for: Any, alice: Any, risk_team: Any, settings: Any, tmp_path: Any, json_log: Any
) -> None:
    """The validation task runs on commit inside the request; its audit event and log name it.

    Transactional, so the upload's transaction really commits while the request is served.
    """
    settings.MEDIA_ROOT = tmp_path
    model = create_model(
        actor=alice, name="tumour-screening", title="Tumour screening", team=risk_team
    )
    create_version(actor=alice, model=model, version="1.0.0")

    response = client_for(alice).post(
        "/models/tumour-screening/versions/1.0.0/artifact/",
        {"file": onnx_files.onnx_upload(onnx_files.linear_onnx())},
        headers={"X-Request-ID": "abc-123"},
    )

    assert response.status_code == 302
    validated = AuditEvent.objects.get(verb="artifact.validated")
    assert validated.request_id == "abc-123"
    [done] = [line for line in json_log() if line["logger"] == "celery.app.trace"]
    assert done["task_name"] == "registry.tasks.validate_artifact_task"
    assert done["request_id"] == "abc-123"
    assert current_request_id() == ""
