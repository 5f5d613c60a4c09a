"""Bodies of the moves on a release: request, approve or reject, cancel, promote, roll back,
and what the CD pipeline says about a rollout."""

from __future__ import annotations

from rest_framework import serializers

from portal.api.serializers import StrictSerializer
from registry.releases.api.serializers.fields import (
    DeploymentStatusField,
    ServingModeField,
    StrategyField,
)
from registry.releases.choices import ServingMode, Strategy
from registry.releases.services.requests import MAX_STEPS, MAX_TEXT_CHARS

MAX_MESSAGE_CHARS = 2_000  # what a release keeps of a status message
MAX_REASON_CHARS = 5_000


class ReleaseCreateSerializer(StrictSerializer):
    """A request to release a model version to an environment."""

    model = serializers.SlugField(max_length=100, help_text="The model's name.")
    version = serializers.CharField(max_length=64, help_text="The version, e.g. 1.2.0.")
    environment = serializers.SlugField(max_length=40, help_text="e.g. staging, production.")
    strategy = StrategyField(required=False, default=Strategy.FULL)
    canary_steps = serializers.ListField(
        child=serializers.IntegerField(),
        max_length=MAX_STEPS,
        required=False,
        default=list,
        help_text="Canary: the traffic shares in percent, rising, the last 100.",
    )
    serving_mode = ServingModeField(required=False, default=ServingMode.REALTIME)
    justification = serializers.CharField(
        max_length=MAX_TEXT_CHARS, help_text="Why this version should run there (Markdown)."
    )
    rollback_plan = serializers.CharField(
        max_length=MAX_TEXT_CHARS, help_text="How to go back if it misbehaves."
    )
    acknowledge_breaking = serializers.BooleanField(
        required=False,
        default=False,
        help_text="The breaking contract changes against what runs there are known.",
    )


class CommentSerializer(StrictSerializer):
    comment = serializers.CharField(
        max_length=MAX_REASON_CHARS,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required to reject: say why, so the requester can fix it.",
    )


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(
        max_length=MAX_REASON_CHARS, required=False, allow_blank=True, default=""
    )


class PromoteSerializer(StrictSerializer):
    override_reason = serializers.CharField(
        max_length=MAX_REASON_CHARS,
        required=False,
        allow_blank=True,
        default="",
        help_text="An approver's reason to go on although a guarding metric is worse.",
    )


class DeploymentStatusSerializer(StrictSerializer):
    """What the CD pipeline says about a rollout."""

    status = DeploymentStatusField(
        help_text="started: the rollout began; succeeded: it serves; failed: it did not."
    )
    message = serializers.CharField(
        max_length=MAX_MESSAGE_CHARS, required=False, allow_blank=True, default=""
    )
