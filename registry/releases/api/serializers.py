"""Serializers of the releases API: environments, what runs where, release requests (a row in
the list, whole on their own), the bodies of their moves, release webhooks and their
deliveries."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from portal.api.serializers import StrictSerializer
from portal.jobs import JobStatus
from portal.webhooks.models import WebhookDelivery
from registry.choices import VersionStatus
from registry.releases.choices import Check, Decision, ServingMode, State, Strategy
from registry.releases.models import (
    Approval,
    CanaryStep,
    Environment,
    ReleaseRequest,
    ReleaseWebhook,
)
from registry.releases.services.approvals import progress
from registry.releases.services.events import EVENTS
from registry.releases.services.requests import MAX_STEPS, MAX_TEXT_CHARS

MAX_MESSAGE_CHARS = 2_000  # what a release keeps of a status message
MAX_REASON_CHARS = 5_000
DEPLOYMENT_STATUSES = ["started", "succeeded", "failed"]


# Named choice sets: "state", "strategy" and "status" name other choice sets elsewhere in
# the API, and the schema must not guess between them.


@extend_schema_field({"type": "string", "enum": State.values}, component_name="ReleaseStateEnum")
class StateField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=State.choices, **kwargs)


@extend_schema_field(
    {"type": "string", "enum": Strategy.values}, component_name="ReleaseStrategyEnum"
)
class StrategyField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Strategy.choices, **kwargs)


@extend_schema_field(
    {"type": "string", "enum": ServingMode.values}, component_name="ServingModeEnum"
)
class ServingModeField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=ServingMode.choices, **kwargs)


@extend_schema_field(
    {"type": "string", "enum": Decision.values}, component_name="ReleaseDecisionEnum"
)
class DecisionField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Decision.choices, **kwargs)


@extend_schema_field(
    {"type": "string", "enum": DEPLOYMENT_STATUSES}, component_name="DeploymentStatusEnum"
)
class DeploymentStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=DEPLOYMENT_STATUSES, **kwargs)


@extend_schema_field(
    {"type": "string", "enum": [VersionStatus.STAGING, VersionStatus.PRODUCTION]},
    component_name="EnvironmentVersionStatusEnum",
)
class EnvironmentStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        choices = [VersionStatus.STAGING.value, VersionStatus.PRODUCTION.value]
        super().__init__(choices=choices, **kwargs)


@extend_schema_field(
    {"type": "string", "enum": list(EVENTS)}, component_name="ReleaseWebhookEventEnum"
)
class EventField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=list(EVENTS), **kwargs)


def release_api_url(release_id: int, request: Any) -> str:
    return reverse(
        "releases-api:release-detail", kwargs={"release_id": release_id}, request=request
    )


# Environments -----------------------------------------------------------------------------


class EnvironmentSerializer(serializers.ModelSerializer[Environment]):
    """An environment and what a release into it needs."""

    version_status = EnvironmentStatusField(
        read_only=True, help_text="The status a version takes while it runs here."
    )
    approvals_needed = serializers.SerializerMethodField(
        help_text="Distinct approvers needed: at least one per required role."
    )
    required_roles = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Roles that must be among the approvers, each held by a different person.",
    )
    guarding_metrics = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Canary comparisons that block the next traffic step when the new "
        "version is worse.",
    )

    class Meta:
        model = Environment
        fields = [
            "name",
            "title",
            "position",
            "version_status",
            "approvals_needed",
            "required_roles",
            "gates_required",
            "min_completeness",
            "runbook_required",
            "guarding_metrics",
        ]
        read_only_fields = fields

    def get_approvals_needed(self, environment: Environment) -> int:
        return max(environment.approvals_needed, len(environment.required_roles))


class RunningContractSerializer(serializers.Serializer[dict[str, Any]]):
    input_schema = serializers.JSONField(allow_null=True, help_text="JSON Schema of a request.")
    output_schema = serializers.JSONField(allow_null=True, help_text="JSON Schema of a response.")


class RunningSerializer(serializers.Serializer[dict[str, Any]]):
    """A version serving in an environment: what the CD pipeline rolls out."""

    version = serializers.CharField(help_text="The semantic version.")
    version_status = serializers.CharField()
    artifact_url = serializers.URLField(
        allow_null=True, help_text="The ONNX file (download with a personal token)."
    )
    sha256 = serializers.CharField(allow_null=True, help_text="The artifact's checksum.")
    size = serializers.IntegerField(allow_null=True, help_text="The artifact's size in bytes.")
    contract = RunningContractSerializer()
    release = serializers.IntegerField(allow_null=True, help_text="The release that put it there.")
    release_url = serializers.URLField(allow_null=True)
    strategy = StrategyField(allow_null=True)
    serving_mode = ServingModeField(allow_null=True)
    traffic_percent = serializers.IntegerField(
        help_text="Its share of the traffic; a shadow release gets mirrored traffic (0 served)."
    )
    since = serializers.DateTimeField(help_text="When it started serving here.")


class WhatRunsSerializer(serializers.Serializer[dict[str, Any]]):
    """What should run for a model in an environment now: the current deployment, and a
    canary or shadow release running next to it."""

    environment = serializers.CharField()
    model = serializers.CharField()
    current = RunningSerializer(
        allow_null=True, help_text="The current deployment; null when only a canary runs."
    )
    canary = RunningSerializer(allow_null=True, help_text="A running canary or shadow release.")


# Releases ---------------------------------------------------------------------------------


class ReleaseRowSerializer(serializers.ModelSerializer[ReleaseRequest]):
    """A release in the list (from ``release_list_queryset``)."""

    url = serializers.SerializerMethodField()
    page = serializers.CharField(source="get_absolute_url", read_only=True)
    model = serializers.CharField(source="version.model.name", read_only=True)
    version = serializers.CharField(source="version.version", read_only=True)
    environment = serializers.CharField(source="environment.name", read_only=True)
    state = StateField(read_only=True)
    strategy = StrategyField(read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    approvals_given = serializers.SerializerMethodField(help_text="Approvals that count now.")
    approvals_needed = serializers.SerializerMethodField()

    class Meta:
        model = ReleaseRequest
        fields = [
            "id",
            "url",
            "page",
            "model",
            "version",
            "environment",
            "state",
            "strategy",
            "traffic_percent",
            "requested_by",
            "approvals_given",
            "approvals_needed",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, release: ReleaseRequest) -> str:
        return release_api_url(release.pk, self.context.get("request"))

    def get_approvals_given(self, release: ReleaseRequest) -> int:
        # The list counts them in SQL; one release counts its prefetched approvals.
        counted = getattr(release, "approved_count", None)
        return counted if counted is not None else progress(release).count

    def get_approvals_needed(self, release: ReleaseRequest) -> int:
        environment = release.environment
        return max(environment.approvals_needed, len(environment.required_roles))


class ApprovalSerializer(serializers.ModelSerializer[Approval]):
    approver = serializers.CharField(source="approver.username", read_only=True)
    decision = DecisionField(read_only=True)
    roles = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="The approver's roles then."
    )
    counts = serializers.SerializerMethodField(help_text="An approval not dismissed.")

    class Meta:
        model = Approval
        fields = [
            "approver",
            "decision",
            "comment",
            "roles",
            "created_at",
            "dismissed_at",
            "dismissed_reason",
            "counts",
        ]
        read_only_fields = fields

    def get_counts(self, approval: Approval) -> bool:
        return approval.decision == Decision.APPROVE and approval.dismissed_at is None


class CanaryStepSerializer(serializers.ModelSerializer[CanaryStep]):
    by = serializers.CharField(source="by.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = CanaryStep
        fields = ["traffic_percent", "by", "at", "override_reason"]
        read_only_fields = fields


@extend_schema_field({"type": "string", "enum": Check.values}, component_name="ReleaseCheckEnum")
class CheckField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Check.choices, **kwargs)


class ChecklistItemSerializer(serializers.Serializer[dict[str, Any]]):
    check = CheckField()
    ok = serializers.BooleanField()
    detail = serializers.CharField()
    overridden = serializers.CharField(help_text="An approver's reason to pass it over, or ''.")

    # Declared here rather than as an attribute: one named ``required`` would shadow the
    # serializer's own ``Field.required``.
    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["required"] = serializers.BooleanField(
            help_text="A failing required check blocks a request."
        )
        return fields


class ChecklistSerializer(serializers.Serializer[dict[str, Any]]):
    """The checklist as it stood when the release was requested."""

    items = ChecklistItemSerializer(many=True)
    breaking_changes = serializers.ListField(child=serializers.CharField())
    replaces = serializers.CharField(allow_null=True)


class ReleaseSerializer(ReleaseRowSerializer):
    """A release with its checklist snapshot, approvals and canary steps."""

    canary_steps = serializers.ListField(child=serializers.IntegerField(), read_only=True)
    next_step = serializers.SerializerMethodField(
        help_text="The next traffic share of a running canary (100 ends a shadow release)."
    )
    serving_mode = ServingModeField(read_only=True)
    replaces = serializers.CharField(source="replaces.version", read_only=True, default=None)
    checklist = serializers.SerializerMethodField()
    approvals = ApprovalSerializer(many=True, read_only=True)
    missing_roles = serializers.SerializerMethodField(
        help_text="Required roles no distinct approver has covered yet."
    )
    steps = CanaryStepSerializer(many=True, read_only=True)
    runbook_revision = serializers.IntegerField(
        source="runbook.revision", read_only=True, default=None
    )

    class Meta(ReleaseRowSerializer.Meta):
        fields = [
            *ReleaseRowSerializer.Meta.fields,
            "canary_steps",
            "next_step",
            "serving_mode",
            "justification",
            "rollback_plan",
            "breaking_acknowledged",
            "replaces",
            "checklist",
            "approvals",
            "missing_roles",
            "steps",
            "runbook_revision",
            "status_message",
            "decided_at",
            "deployed_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_next_step(self, release: ReleaseRequest) -> int | None:
        return release.next_step()

    @extend_schema_field(ChecklistSerializer)
    def get_checklist(self, release: ReleaseRequest) -> dict[str, Any]:
        snapshot = release.checklist or {}
        return {
            "items": snapshot.get("items", []),
            "breaking_changes": snapshot.get("breaking_changes", []),
            "replaces": snapshot.get("replaces"),
        }

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_missing_roles(self, release: ReleaseRequest) -> list[str]:
        return progress(release).missing_roles


# Bodies of the moves ----------------------------------------------------------------------


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


# Webhooks ---------------------------------------------------------------------------------


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
