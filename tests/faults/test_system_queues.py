"""The System page asks a real broker how many messages wait in each queue, and still
renders, naming the problem, when the broker is gone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection, Exchange, Queue

from tests.faults.servers import PrivateRedis

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


@pytest.fixture
def broker(tmp_path: Path, settings: Any) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path / "redis")
    server.start()
    settings.CELERY_BROKER_URL = server.url(0)
    settings.HANDOFF_HEAVY_QUEUE = "heavy"
    yield server
    server.stop()


def send(url: str, queue: str, messages: int) -> None:
    """Messages as Celery's producer leaves them: published to the queue's direct exchange."""
    target = Queue(queue, Exchange(queue, type="direct"), routing_key=queue)
    with Connection(url) as connection:
        producer = connection.Producer()
        for number in range(messages):
            producer.publish(
                {"n": number}, routing_key=queue, exchange=target.exchange, declare=[target]
            )


def waiting(page: str) -> dict[str, str]:
    return dict(re.findall(r"<tr><td>([\w-]+)</td><td>(.*?)</td></tr>", page))


def test_the_page_shows_what_waits_in_each_queue_and_survives_the_broker(
    client_for: Any, superuser: Any, broker: PrivateRedis
) -> None:
    send(broker.url(0), "celery", 3)
    send(broker.url(0), "heavy", 2)

    page = client_for(superuser).get("/system/").content.decode()
    assert waiting(page) == {"celery": "3", "heavy": "2"}, page

    broker.stop()
    response = client_for(superuser).get("/system/")

    assert response.status_code == 200
    down = waiting(response.content.decode())
    assert set(down) == {"celery", "heavy"}
    assert all("unknown" in cell and "Error" in cell for cell in down.values()), down
