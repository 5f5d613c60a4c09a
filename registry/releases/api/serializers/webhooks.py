"""Serializers of release webhooks and their deliveries."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.api.serializers import StrictSerializer
from portal.jobs import JobStatus
from portal.webhooks.models import WebhookDelivery
from registry.releases.api.serializers.fields import EventField
from registry.releases.models import ReleaseWebhook
from registry.releases.services.events import EVENTS


class ReleaseWebhookSerializer(serializers.ModelSerializer[ReleaseWebhook]):
    team = serializers.SlugRelatedField[Any](slug_field="slug", read_only=True, allow_null=True)
    environment = serializers.SlugRelatedField[Any](
        slug_field="name", read_only=True, allow_null=True
    )
    events = serializers.ListField(
        child=EventField(), read_only=True, help_text="The events sent; empty: all."
    )
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = ReleaseWebhook
        fields = [
            "id",
            "team",
            "environment",
            "url",
            "events",
            "active",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class ReleaseWebhookCreateSerializer(StrictSerializer):
    """Where to POST release events: for one team's models, or for one environment."""

    team = serializers.SlugField(
        required=False, allow_null=True, default=None, help_text="A team's slug."
    )
    environment = serializers.SlugField(
        required=False, allow_null=True, default=None, help_text="An environment's name."
    )
    url = serializers.CharField(max_length=500, help_text="An http(s) URL on a public address.")
    events = serializers.ListField(
        child=EventField(),
        required=False,
        default=list,
        max_length=len(EVENTS),
        help_text="The events to send; empty or left out: all.",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if (data.get("team") is None) == (data.get("environment") is None):
            raise serializers.ValidationError({"detail": "Name either a team or an environment."})
        return data


class WebhookDeliverySerializer(serializers.ModelSerializer[WebhookDelivery]):
    """One release event sent (or being sent) to a receiver."""

    host = serializers.CharField(
        read_only=True, help_text="The receiver's host (its URL may hold a secret)."
    )
    release = serializers.SerializerMethodField()
    job_status = serializers.ChoiceField(
        source="phase",
        choices=JobStatus.choices,
        read_only=True,
        help_text="queued → running → succeeded or failed; a failed one can be resent.",
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "host",
            "release",
            "job_status",
            "attempts",
            "max_attempts",
            "response_status",
            "response_ms",
            "error",
            "queued_at",
            "finished_at",
            "delivered_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_release(self, delivery: WebhookDelivery) -> int | None:
        release = (delivery.payload or {}).get("release") or {}
        found = release.get("id") if isinstance(release, dict) else None
        return found if isinstance(found, int) else None
