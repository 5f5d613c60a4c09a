"""Serializers of release requests: a row in the list, and whole on their own."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from registry.releases.api.serializers.fields import (
    DecisionField,
    ServingModeField,
    StateField,
    StrategyField,
)
from registry.releases.choices import Check, Decision
from registry.releases.models import Approval, CanaryStep, ReleaseRequest
from registry.releases.services.approvals import progress


def release_api_url(release_id: int, request: Any) -> str:
    return reverse(
        "releases-api:release-detail", kwargs={"release_id": release_id}, request=request
    )


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
