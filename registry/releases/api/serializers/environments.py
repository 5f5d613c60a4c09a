"""Serializers of environments and of what runs in them."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from registry.releases.api.serializers.fields import (
    EnvironmentStatusField,
    ServingModeField,
    StrategyField,
)
from registry.releases.models import Environment


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
