"""The quality-gates API: a model's rules (its own and its team's defaults), a team's
defaults, a version's verdict, the override, a re-judge and the contract acknowledgement.

Writes are refused with 403 before their body is read when the caller may not make them;
the services check the same rules and stay the authority.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api.parsers import CappedJSONParser
from portal.api.people import person
from portal.api.serializers import StrictSerializer
from portal.models import Team
from portal.roles import Role, has_role
from registry.evaluation.models import (
    Comparator,
    ContractAcknowledgement,
    GateOutcome,
    GateOverride,
    QualityGate,
    RuleKind,
    describe_rule,
)
from registry.evaluation.services import gates
from registry.evaluation.verdicts import Verdict, VerdictState, rule_filter
from registry.models import ModelVersion, RegisteredModel
from registry.permissions import can_edit_model

RULE_EXAMPLE = OpenApiExample(
    "F1 on every slice of region",
    value={"kind": "metric", "metric": "f1_macro", "threshold": 0.85, "slice_column": "region"},
    request_only=True,
)


# Named choice sets: "kind", "outcome" and "state" name other choice sets elsewhere in the
# API, and the schema must not guess between them.


@extend_schema_field({"type": "string", "enum": RuleKind.values}, component_name="GateKindEnum")
class RuleKindField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=RuleKind.choices, **kwargs)


@extend_schema_field(
    {"type": "string", "enum": Comparator.values}, component_name="GateComparatorEnum"
)
class ComparatorField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Comparator.choices, **kwargs)


@extend_schema_field(
    {"type": "string", "enum": GateOutcome.values}, component_name="GateOutcomeEnum"
)
class OutcomeField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=GateOutcome.choices, **kwargs)


@extend_schema_field(
    {"type": "string", "enum": VerdictState.values}, component_name="GateVerdictStateEnum"
)
class VerdictStateField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=VerdictState.choices, **kwargs)


class GateRuleSerializer(serializers.ModelSerializer[QualityGate]):
    kind = RuleKindField(read_only=True)
    comparator = ComparatorField(read_only=True)
    text = serializers.SerializerMethodField()
    inherited = serializers.SerializerMethodField()
    team = serializers.SlugRelatedField[Any](slug_field="slug", read_only=True)
    model = serializers.SlugRelatedField[Any](slug_field="name", read_only=True)
    created_by = serializers.SlugRelatedField[Any](slug_field="username", read_only=True)

    class Meta:
        model = QualityGate
        fields = [
            "id",
            "kind",
            "metric",
            "comparator",
            "threshold",
            "slice_column",
            "text",
            "inherited",
            "team",
            "model",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_text(self, rule: QualityGate) -> str:
        return describe_rule(rule)

    @extend_schema_field(serializers.BooleanField())
    def get_inherited(self, rule: QualityGate) -> bool:
        """A team default, which every model of the team inherits."""
        return rule.model_id is None


class GateRuleCreateSerializer(StrictSerializer):
    kind = RuleKindField()
    metric = serializers.CharField(
        required=False, allow_blank=True, max_length=64, default="", help_text="Metric rules."
    )
    comparator = ComparatorField(required=False, default=Comparator.GE)
    threshold = serializers.FloatField(
        required=False,
        allow_null=True,
        default=None,
        help_text="metric: the bar; relative: the largest allowed loss; card: a percentage; "
        "latency: milliseconds; contract: none.",
    )
    slice_column = serializers.CharField(
        required=False, allow_blank=True, max_length=200, default="", help_text="Metric rules."
    )


class GateResultSerializer(serializers.Serializer[Any]):
    rule_id = serializers.IntegerField(source="gate_id")
    rule = serializers.CharField()
    outcome = OutcomeField()
    observed = serializers.FloatField(allow_null=True)
    reason = serializers.CharField()
    evaluation = serializers.IntegerField(source="evaluation_id", allow_null=True)
    judged_at = serializers.DateTimeField(source="created_at")


class UnjudgedRuleSerializer(serializers.Serializer[Any]):
    rule_id = serializers.IntegerField(source="pk")
    rule = serializers.CharField(source="__str__")


class GateOverrideSerializer(serializers.ModelSerializer[GateOverride]):
    by = serializers.SlugRelatedField[Any](slug_field="username", read_only=True)
    results = serializers.PrimaryKeyRelatedField[Any](many=True, read_only=True)

    class Meta:
        model = GateOverride
        fields = ["id", "justification", "by", "created_at", "results"]
        read_only_fields = fields


class VerdictSerializer(serializers.Serializer[Verdict]):
    state = VerdictStateField()
    blocks_release = serializers.BooleanField()
    results = GateResultSerializer(many=True)
    unjudged = UnjudgedRuleSerializer(many=True)
    override = GateOverrideSerializer(allow_null=True)


class OverrideRequestSerializer(StrictSerializer):
    justification = serializers.CharField(
        allow_blank=True, trim_whitespace=False, max_length=gates.MAX_TEXT
    )


class AcknowledgementRequestSerializer(StrictSerializer):
    note = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=gates.MAX_TEXT)


class AcknowledgementSerializer(serializers.ModelSerializer[ContractAcknowledgement]):
    by = serializers.SlugRelatedField[Any](slug_field="username", read_only=True)

    class Meta:
        model = ContractAcknowledgement
        fields = ["note", "by", "created_at"]
        read_only_fields = fields


def _model(name: str) -> RegisteredModel:
    return get_object_or_404(RegisteredModel.objects.select_related("team"), name=name)


def _version(name: str, version: str) -> ModelVersion:
    return get_object_or_404(
        ModelVersion.objects.select_related("model__team"), model__name=name, version=version
    )


def _rules(queryset: QuerySet[QualityGate]) -> list[QualityGate]:
    return list(queryset.select_related("team", "model", "created_by"))


def _verdict(version: ModelVersion) -> Response:
    return Response(VerdictSerializer(gates.verdict(version)).data)


class GateApiView(APIView):
    parser_classes = [CappedJSONParser]


class ModelGatesView(GateApiView):
    @extend_schema(
        summary="A model's rules, with its team's defaults (inherited: true)",
        responses=GateRuleSerializer(many=True),
    )
    def get(self, request: Request, model_name: str) -> Response:
        model = _model(model_name)
        rules = _rules(QualityGate.objects.filter(rule_filter(model)))
        return Response(GateRuleSerializer(rules, many=True).data)

    @extend_schema(
        summary="Add a rule to the model",
        request=GateRuleCreateSerializer,
        responses={201: GateRuleSerializer},
        examples=[RULE_EXAMPLE],
    )
    def post(self, request: Request, model_name: str) -> Response:
        model = _model(model_name)
        if not gates.can_edit_rules(request.user, model.team, model):
            raise PermissionDenied(
                f"Only {model.team}'s Data scientists and Engineers may change {model}'s gates."
            )
        body = GateRuleCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rule = gates.add_rule(
            actor=person(request), team=model.team, model=model, **body.validated_data
        )
        return Response(GateRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class TeamGatesView(GateApiView):
    @extend_schema(
        summary="A team's default rules, which every model of the team inherits",
        responses=GateRuleSerializer(many=True),
    )
    def get(self, request: Request, team_name: str) -> Response:
        found = get_object_or_404(Team, slug=team_name)
        rules = _rules(QualityGate.objects.filter(team=found, model__isnull=True))
        return Response(GateRuleSerializer(rules, many=True).data)

    @extend_schema(
        summary="Add a default rule for every model of the team",
        request=GateRuleCreateSerializer,
        responses={201: GateRuleSerializer},
        examples=[RULE_EXAMPLE],
    )
    def post(self, request: Request, team_name: str) -> Response:
        found = get_object_or_404(Team, slug=team_name)
        if not gates.can_edit_rules(request.user, found):
            raise PermissionDenied(
                f"Only {found}'s Data scientists and Engineers may set its default gates."
            )
        body = GateRuleCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rule = gates.add_rule(actor=person(request), team=found, **body.validated_data)
        return Response(GateRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class GateView(GateApiView):
    def _rule(self, pk: str) -> QualityGate:
        return get_object_or_404(QualityGate.objects.select_related("team", "model"), pk=pk)

    @extend_schema(summary="One rule", responses=GateRuleSerializer)
    def get(self, request: Request, gate_id: str) -> Response:
        return Response(GateRuleSerializer(self._rule(gate_id)).data)

    @extend_schema(summary="Remove a rule (its results go with it)", responses={204: None})
    def delete(self, request: Request, gate_id: str) -> Response:
        rule = self._rule(gate_id)
        gates.remove_rule(actor=person(request), rule=rule)
        return Response(status=status.HTTP_204_NO_CONTENT)


class VersionGatesView(GateApiView):
    @extend_schema(
        summary="The version's verdict: the latest result of every rule, and any override",
        responses=VerdictSerializer,
    )
    def get(self, request: Request, model_name: str, version: str) -> Response:
        return _verdict(_version(model_name, version))


class GateOverrideView(GateApiView):
    @extend_schema(
        summary="Override the failing gates (Approvers; a justification is required)",
        request=OverrideRequestSerializer,
        responses={201: GateOverrideSerializer},
    )
    def post(self, request: Request, model_name: str, version: str) -> Response:
        found = _version(model_name, version)
        if not has_role(request.user, Role.APPROVER):
            raise PermissionDenied("Only an Approver may override failed gates.")
        body = OverrideRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        override = gates.override_gates(actor=person(request), version=found, **body.validated_data)
        return Response(GateOverrideSerializer(override).data, status=status.HTTP_201_CREATED)


class GateJudgeView(GateApiView):
    @extend_schema(
        summary="Judge the gates again now, with the latest succeeded evaluation",
        request=None,
        responses=VerdictSerializer,
    )
    def post(self, request: Request, model_name: str, version: str) -> Response:
        found = _version(model_name, version)
        gates.rejudge(actor=person(request), version=found)
        return _verdict(found)


class ContractAcknowledgementView(GateApiView):
    @extend_schema(
        summary="Acknowledge the version's breaking contract changes, with a note",
        request=AcknowledgementRequestSerializer,
        responses={201: AcknowledgementSerializer},
    )
    def post(self, request: Request, model_name: str, version: str) -> Response:
        found = _version(model_name, version)
        if not can_edit_model(request.user, found.model):
            raise PermissionDenied(f"Only {found.model}'s editors may acknowledge its contract.")
        body = AcknowledgementRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        acknowledgement = gates.acknowledge_contract_change(
            actor=person(request), version=found, note=body.validated_data["note"]
        )
        data = AcknowledgementSerializer(acknowledgement).data
        return Response(data, status=status.HTTP_201_CREATED)
