"""Webhook deliveries. The task loads its row through the service; the row, not Celery,
holds the outcome. Beat's portal.tasks.requeue_stale_jobs_task sends a delivery again after a
retryable failure (5xx, 429, timeout, no connection) or when its worker dies mid-way.
"""

from contextlib import suppress

from celery import shared_task
from django.db import OperationalError

from portal.webhooks.models import WebhookDelivery
from portal.webhooks.services import deliver_webhook


@shared_task(
    name="portal.webhooks.tasks.deliver_webhook_task",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def deliver_webhook_task(delivery_id: int) -> None:
    """POST one delivery; retried here only when the database is briefly unavailable."""
    # A delivery deleted after it was queued leaves nothing to send.
    with suppress(WebhookDelivery.DoesNotExist):
        deliver_webhook(delivery_id=delivery_id)
