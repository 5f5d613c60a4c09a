"""The evaluations API: a version's input mapping, its evaluations (list and start), one
evaluation with every result, and cancelling one.

Everyone signed in reads; writes are for the model team's Data scientists and Engineers,
checked before the body is read (so an outsider gets 403, not a 400 about a body they may
not send) and again by the services, which stay the authority.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api.parsers import CappedJSONParser
from portal.api.people import person
from portal.api.serializers import StrictSerializer
from portal.jobs import JobStatus
from registry.evaluation.mapping import DTYPES, MAX_CLASSES, MAX_COLUMN_CHARS, unmapped_fields
from registry.evaluation.models import Dataset, Evaluation, InputMapping
from registry.evaluation.services import evaluation_checks, evaluations, mappings
from registry.models import ModelVersion

MAX_INPUTS = 100
MAX_MAPPED_COLUMNS = 10_000
# The job's state is ``job_status``, as for every job in the API (an artifact's ``status``
# keeps its own words), so the schema has one name for the one set of states.
JOB_FIELDS = [
    "job_status",
    "progress",
    "progress_text",
    "error",
    "attempts",
    "max_attempts",
    "queued_at",
    "started_at",
    "finished_at",
    "cancel_requested",
]


def version_or_404(name: str, version: str) -> ModelVersion:
    return get_object_or_404(
        ModelVersion.objects.select_related("model", "model__team"),
        model__name=name,
        version=version,
    )


# Input mapping ----------------------------------------------------------------------------


class MappedInputSerializer(StrictSerializer):
    """One ONNX input and the columns that feed it."""

    name = serializers.CharField(max_length=200, help_text="The ONNX input's name.")
    dtype = serializers.ChoiceField(
        choices=sorted(set(DTYPES.values())), help_text="The input's element type."
    )
    columns = serializers.ListField(
        child=serializers.CharField(max_length=MAX_COLUMN_CHARS),
        max_length=MAX_MAPPED_COLUMNS,
        help_text="Dataset columns (or request fields) feeding it, in order.",
    )


class MappedOutputsSerializer(StrictSerializer):
    """Which outputs hold the label and the scores, and the class of each score column."""

    # Declared here rather than as attributes: an attribute named ``label`` would shadow
    # the serializer's own ``Field.label``.
    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "label": serializers.CharField(
                max_length=200,
                allow_blank=True,
                help_text="The output holding the predicted label (a regression: the value).",
            ),
            "scores": serializers.CharField(
                max_length=200,
                allow_blank=True,
                help_text="The output holding class scores [n, k].",
            ),
            "classes": serializers.ListField(
                child=serializers.CharField(max_length=200),
                max_length=MAX_CLASSES,
                help_text="The class of each score column, in order; empty for a regression.",
            ),
        }


class InputMappingSerializer(StrictSerializer):
    """How dataset columns feed the version's ONNX graph and how its outputs read."""

    inputs = serializers.ListField(child=MappedInputSerializer(), max_length=MAX_INPUTS)
    outputs = MappedOutputsSerializer()
    drafted = serializers.BooleanField(
        read_only=True, help_text="Drafted from the contract and the graph, not yet edited."
    )
    notes = serializers.SerializerMethodField(help_text="Contract fields no input takes.")
    updated_by = serializers.CharField(
        source="updated_by.username", read_only=True, allow_null=True, default=None
    )
    updated_at = serializers.DateTimeField(read_only=True)

    def get_notes(self, obj: InputMapping) -> list[str]:
        return unmapped_fields(obj.version.input_schema, obj.inputs)


MAPPING_EXAMPLE = OpenApiExample(
    "Four numeric columns into one float input",
    value={
        "inputs": [
            {
                "name": "features",
                "dtype": "float32",
                "columns": ["age", "income", "tenure", "tickets"],
            }
        ],
        "outputs": {"label": "label", "scores": "probabilities", "classes": ["0", "1"]},
    },
    request_only=True,
)


class InputMappingView(APIView):
    parser_classes = [CappedJSONParser]
    serializer_class = InputMappingSerializer

    @extend_schema(
        summary="The version's input mapping (drafted from the contract on first read)",
        responses={
            200: InputMappingSerializer,
            404: OpenApiResponse(description="No valid artifact"),
        },
    )
    def get(self, request: Request, model_name: str, version: str) -> Response:
        found = version_or_404(model_name, version)
        try:
            saved = mappings.mapping_for(found)
        except DjangoValidationError as exc:
            raise NotFound(" ".join(exc.messages)) from exc
        return Response(InputMappingSerializer(saved).data)

    @extend_schema(
        summary="Replace the input mapping; refused with the reason when it does not fit",
        request=InputMappingSerializer,
        responses=InputMappingSerializer,
        examples=[MAPPING_EXAMPLE],
    )
    def put(self, request: Request, model_name: str, version: str) -> Response:
        found = version_or_404(model_name, version)
        evaluations.require_evaluate(request.user, found)
        body = InputMappingSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        saved = mappings.save_mapping(
            actor=person(request),
            version=found,
            inputs=[dict(entry) for entry in body.validated_data["inputs"]],
            outputs=dict(body.validated_data["outputs"]),
        )
        return Response(InputMappingSerializer(saved).data)


# Evaluations ----------------------------------------------------------------------------


class EvaluationRowSerializer(serializers.ModelSerializer):
    """An evaluation in a list: its job and headline metrics."""

    url = serializers.HyperlinkedIdentityField(
        view_name="evaluations-api:evaluation", lookup_url_kwarg="evaluation_id"
    )
    model = serializers.CharField(source="version.model.name", read_only=True)
    version = serializers.CharField(source="version.version", read_only=True)
    dataset = serializers.CharField(source="dataset.name", read_only=True)
    dataset_version = serializers.CharField(source="dataset.version", read_only=True)
    job_status = serializers.ChoiceField(
        source="phase",
        choices=JobStatus.choices,
        read_only=True,
        help_text="queued → running → succeeded, failed or cancelled.",
    )
    started_by = serializers.SlugRelatedField[Any](slug_field="username", read_only=True)
    metrics = serializers.JSONField(
        read_only=True, help_text="Metric name → value (null when undefined)."
    )

    class Meta:
        model = Evaluation
        fields = [
            "id",
            "url",
            "model",
            "version",
            "dataset",
            "dataset_version",
            "label_column",
            "slice_columns",
            "prediction_column",
            "task_kind",
            *JOB_FIELDS,
            "started_by",
            "rows",
            "metrics",
            "created_at",
        ]
        read_only_fields = fields


class EvaluationSerializer(EvaluationRowSerializer):
    """An evaluation with every result."""

    page = serializers.CharField(source="get_absolute_url", read_only=True)
    per_class = serializers.JSONField(read_only=True)
    curves = serializers.JSONField(
        read_only=True, help_text="classes, confusion, roc, pr, calibration or residuals."
    )
    importance = serializers.JSONField(
        read_only=True, help_text="[{column, drop, spread, metric}], largest drop first."
    )
    slices = serializers.JSONField(read_only=True, help_text="[{column, value, rows, metrics}].")
    latency = serializers.JSONField(read_only=True, help_text="{p50_ms, p95_ms, rows_per_s}.")

    class Meta(EvaluationRowSerializer.Meta):
        fields = [
            *EvaluationRowSerializer.Meta.fields,
            "page",
            "per_class",
            "curves",
            "importance",
            "slices",
            "latency",
        ]
        read_only_fields = fields


class EvaluationStartSerializer(StrictSerializer):
    """What to evaluate the version on."""

    dataset = serializers.SlugField(max_length=100, help_text="The dataset's name.")
    dataset_version = serializers.CharField(max_length=64, help_text="The dataset's version.")
    label_column = serializers.CharField(max_length=200)
    slice_columns = serializers.ListField(
        child=serializers.CharField(max_length=200),
        max_length=evaluation_checks.MAX_SLICE_COLUMNS,
        required=False,
        default=list,
    )
    prediction_column = serializers.CharField(
        max_length=200,
        required=False,
        default="",
        allow_blank=True,
        help_text="For a version without an artifact: the column holding its predictions.",
    )


def evaluation_queryset() -> QuerySet[Evaluation]:
    return Evaluation.objects.select_related("version__model", "dataset", "started_by")


class VersionEvaluationsView(generics.ListAPIView[Evaluation]):
    serializer_class = EvaluationRowSerializer
    parser_classes = [CappedJSONParser]

    def get_queryset(self) -> QuerySet[Evaluation]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no URL kwargs
            return Evaluation.objects.none()
        found = version_or_404(self.kwargs["model_name"], self.kwargs["version"])
        return evaluation_queryset().filter(version=found)

    @extend_schema(summary="The version's evaluations, newest first")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Start an evaluation on a dataset; a worker runs it",
        request=EvaluationStartSerializer,
        responses={202: EvaluationSerializer},
    )
    def post(self, request: Request, model_name: str, version: str) -> Response:
        found = version_or_404(model_name, version)
        evaluations.require_evaluate(request.user, found)
        body = EvaluationStartSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data)
        dataset = Dataset.objects.filter(
            name=values.pop("dataset"), version=values.pop("dataset_version")
        ).first()
        if dataset is None:
            raise serializers.ValidationError({"dataset": ["No dataset of that name and version."]})
        started = evaluations.start_evaluation(
            actor=person(request), version=found, dataset=dataset, **values
        )
        shown = evaluation_queryset().get(pk=started.pk)
        data = EvaluationSerializer(shown, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_202_ACCEPTED)


class EvaluationView(generics.RetrieveAPIView[Evaluation]):
    serializer_class = EvaluationSerializer
    queryset = evaluation_queryset()
    lookup_url_kwarg = "evaluation_id"

    @extend_schema(summary="One evaluation with every result")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class EvaluationCancelView(generics.GenericAPIView[Evaluation]):
    serializer_class = EvaluationSerializer
    queryset = evaluation_queryset()
    lookup_url_kwarg = "evaluation_id"

    @extend_schema(
        summary="Cancel a queued or running evaluation (a worker stops at its next batch)",
        request=None,
        responses=EvaluationSerializer,
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        evaluation = self.get_object()
        evaluations.cancel_evaluation(actor=person(request), evaluation=evaluation)
        shown = self.get_queryset().get(pk=evaluation.pk)
        return Response(self.get_serializer(shown).data)
