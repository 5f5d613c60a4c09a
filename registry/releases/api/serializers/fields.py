"""Named choice fields of the releases API: "state", "strategy" and "status" name other choice
sets elsewhere in the API, and the schema must not guess between them."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registry.choices import VersionStatus
from registry.releases.choices import Decision, ServingMode, State, Strategy
from registry.releases.services.events import EVENTS

DEPLOYMENT_STATUSES = ["started", "succeeded", "failed"]


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
