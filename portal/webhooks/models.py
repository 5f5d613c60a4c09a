"""Outbound webhook deliveries: one POST of one event to one URL, as a row of the job model.

The row is the job (``portal.jobs.Job``): its attempts, lease and error are the platform's,
and the receiver's answer lands on it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db import models

from portal.jobs import Job


class WebhookDelivery(Job):
    """An event sent (or being sent) to a receiving URL; drift alerts and releases queue them."""

    url = models.URLField(max_length=500)
    event = models.CharField(max_length=100)  # e.g. "drift.alert"
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    # The receiver's last answer: recorded for retried and refused attempts too.
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_ms = models.FloatField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    task_name = "portal.webhooks.tasks.deliver_webhook_task"
    activity = "delivering a webhook"
    audit_prefix = "webhook."
    # The timeout is a setting, and settings are not read at import time: named, not quoted.
    retry_hint = (
        "Check that the receiving URL accepts a POST within HANDOFF_WEBHOOK_TIMEOUT_SECONDS "
        "seconds."
    )

    class Meta:
        ordering = ["-queued_at", "-pk"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        # The host only: receivers often carry a secret token in the URL's path or query,
        # and this text reaches logs and the audit trail.
        return f"{self.event} webhook {self.pk} to {self.host}"

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "?"
