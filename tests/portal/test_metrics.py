"""/metrics: only for the scraper's token or network, and counting what the portal did."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from prometheus_client import REGISTRY


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.django_db
def test_metrics_answer_only_the_token_or_an_allowed_network(settings: Any) -> None:
    settings.HANDOFF_METRICS_TOKEN = "scrape-secret"
    outsider = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR="10.1.2.3")
    assert outsider.get("/metrics").status_code == 404
    assert outsider.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    scraped = outsider.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret")
    assert scraped.status_code == 200
    assert scraped["Content-Type"].startswith("text/plain")
    assert b"handoff_http_requests_total" in scraped.content
    local = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR="127.0.0.1")
    assert local.get("/metrics").status_code == 200
    settings.HANDOFF_METRICS_TOKEN = ""
    assert outsider.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.django_db
def test_requests_are_counted_and_timed_by_the_view_that_answered() -> None:
    labels = {"view": "healthz", "method": "GET", "status": "2xx"}
    before = sample("handoff_http_requests_total", **labels)
    timed = sample("handoff_http_request_duration_seconds_count", view="healthz")
    client = Client(HTTP_HOST="127.0.0.1")
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert sample("handoff_http_requests_total", **labels) == before + 3
    assert sample("handoff_http_request_duration_seconds_count", view="healthz") == timed + 3
    missing = sample("handoff_http_requests_total", view="unmatched", method="GET", status="4xx")
    client.get("/no/such/page/")
    # A 404 before any view is labelled "unmatched", never with the path: labels stay bounded.
    assert (
        sample("handoff_http_requests_total", view="unmatched", method="GET", status="4xx")
        == missing + 1
    )


@pytest.mark.django_db
def test_celery_tasks_are_counted_by_name_and_outcome() -> None:
    from portal.tasks import record_worker_heartbeat_task as record_heartbeat_task

    name = record_heartbeat_task.name
    before = sample("handoff_celery_tasks_total", task=name, outcome="succeeded")
    record_heartbeat_task.apply()
    assert sample("handoff_celery_tasks_total", task=name, outcome="succeeded") == before + 1
    assert sample("handoff_celery_task_duration_seconds_count", task=name) >= 1
