"""The delivery task: it hands the row's id to the service, and a vanished row is no error."""

from __future__ import annotations

from unittest import mock

from celery import current_app

from portal.webhooks.models import WebhookDelivery
from portal.webhooks.tasks import deliver_webhook_task


def test_the_task_is_registered_under_the_name_the_job_model_gives() -> None:
    """The job platform and beat send deliveries by this name."""
    assert current_app.tasks[WebhookDelivery.task_name].name == deliver_webhook_task.name


def test_the_task_runs_the_delivery_service_with_the_id() -> None:
    with mock.patch("portal.webhooks.tasks.deliver_webhook") as deliver:
        deliver_webhook_task.delay(41)

    deliver.assert_called_once_with(delivery_id=41)


def test_a_delivery_deleted_before_it_ran_is_skipped_quietly(db: None) -> None:
    """The real service finds no row; the task ends without an error."""
    deliver_webhook_task.delay(999_999)
