"""Queueing a webhook: the URL's shape is checked, the row is stored, and the send waits for
the commit."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from portal.jobs import JobStatus
from portal.webhooks.models import WebhookDelivery
from portal.webhooks.services import queue_webhook, url_problem

SEND = "portal.webhooks.tasks.deliver_webhook_task.delay"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://hooks.example.com/drift", "http"),
        ("file:///etc/passwd", "http"),
        ("gopher://hooks.example.com:70/", "http"),
        ("http:///no-host", "host"),
        ("https://", "host"),
        ("https://user:pass@hooks.example.com/drift", "password"),
        ("https://token@hooks.example.com/drift", "password"),
        ("https://hooks.example.com:99999/drift", "port"),
        ("https://hooks.example.com:0/drift", "port"),
        ("https://hooks example.com/drift", "valid URL"),
        ("hooks.example.com/drift", "http"),
        ("https://hooks.example.com/" + "a" * 500, "500 characters"),
    ],
)
def test_it_refuses_a_url_of_the_wrong_shape_naming_webhook_url(
    db: None, url: str, words: str
) -> None:
    """The error is keyed webhook_url, so a form shows it next to the field, and says why."""
    with pytest.raises(ValidationError) as refused:
        queue_webhook(url=url, event="drift.alert", payload={})

    assert list(refused.value.message_dict) == ["webhook_url"]
    assert words in refused.value.message_dict["webhook_url"][0]
    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/drift?token=abc",
        "http://hooks.example.com:8080/drift",
        "https://[2606:4700:4700::1111]/drift",
        "http://127.0.0.1:9000/",  # a private address is refused when sent, not here
    ],
)
def test_it_accepts_http_and_https_urls_with_a_port(url: str) -> None:
    assert url_problem(url) == ""


def test_it_stores_a_queued_delivery_and_sends_it_only_after_the_commit(
    db: None, django_capture_on_commit_callbacks: Any
) -> None:
    """Nothing is sent for a change that rolls back; the row waits, queued, for its worker."""
    with mock.patch(SEND) as send, django_capture_on_commit_callbacks() as callbacks:
        delivery = queue_webhook(
            url="https://hooks.example.com/drift", event="drift.alert", payload={"psi": 0.3}
        )
        assert send.call_count == 0
    assert len(callbacks) == 1

    with mock.patch(SEND) as send:
        callbacks[0]()

    send.assert_called_once_with(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.phase == JobStatus.QUEUED
    assert (delivery.event, delivery.payload, delivery.attempts) == ("drift.alert", {"psi": 0.3}, 0)
    assert delivery.lease_expires_at is not None  # beat sends it if the message is lost


def test_it_refuses_an_event_name_that_could_break_a_header(db: None) -> None:
    """The event goes into X-Handoff-Event, so it is a plain dotted name."""
    with pytest.raises(ValidationError) as refused:
        queue_webhook(url="https://hooks.example.com/", event="drift\r\nX-Evil: 1", payload={})

    assert list(refused.value.message_dict) == ["event"]


def test_its_text_names_the_host_but_not_the_url(db: None) -> None:
    """Receivers often carry a secret in the URL, and this text reaches logs and the audit."""
    delivery = WebhookDelivery(
        pk=7, url="https://hooks.example.com/T000/B000/secret-token", event="drift.alert"
    )

    assert str(delivery) == "drift.alert webhook 7 to hooks.example.com"
