"""Deliveries are browsed here, never edited: they are sent and retried by the job services."""

from django.contrib import admin

from portal.admin import ReadOnlyAdmin
from portal.webhooks.models import WebhookDelivery


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "queued_at",
        "event",
        "host",
        "status",
        "attempts",
        "response_status",
        "delivered_at",
    ]
    list_filter = ["status", "event"]
    search_fields = ["event", "url"]
    date_hierarchy = "queued_at"
