"""Serializers of the datasets API: a dataset with its profile job, the upload's fields,
and the contract check's report."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from portal.api.serializers import StrictSerializer
from portal.jobs import JobStatus
from portal.models import Team
from registry.evaluation.models import Dataset, DatasetKind
from registry.evaluation.services.datasets import VERSION_RULE

MAX_DESCRIPTION_CHARS = 10_000
PROBLEM_KINDS = [
    "missing",
    "type",
    "null",
    "enum",
    "minimum",
    "maximum",
    "exclusive_minimum",
    "exclusive_maximum",
    "min_length",
    "max_length",
    "pattern",
    "unique",
]


# Named enums: other resources have "kind" fields with other choices, and a shared name
# would leave the schema generator to guess component names.
@extend_schema_field(
    {"type": "string", "enum": DatasetKind.values}, component_name="DatasetKindEnum"
)
class DatasetKindField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=DatasetKind.choices, **kwargs)


@extend_schema_field(
    {"type": "string", "enum": PROBLEM_KINDS}, component_name="ContractProblemKindEnum"
)
class ProblemKindField(serializers.CharField):
    pass


class ProfileSerializer(serializers.ModelSerializer):
    """The profiling job, and its result once it succeeded."""

    job_status = serializers.ChoiceField(
        source="phase",
        choices=JobStatus.choices,
        read_only=True,
        help_text="queued → running → succeeded, failed or cancelled.",
    )

    class Meta:
        model = Dataset
        fields = [
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
            "row_count",
        ]
        read_only_fields = fields


class ProfileDetailSerializer(ProfileSerializer):
    columns = serializers.JSONField(
        read_only=True,
        help_text=(
            "Per column: name, type, kind (number, category, other), nulls, distinct and "
            "distinct_exact; numbers: min, max, mean, std, quantiles {p01 … p99}, "
            "non_finite, histogram {edges, counts}; categories: top [{value, count}], "
            "top_exact, histogram {values, counts, other}."
        ),
    )

    class Meta(ProfileSerializer.Meta):
        fields = [*ProfileSerializer.Meta.fields, "columns"]
        read_only_fields = fields


class DatasetSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    page = serializers.CharField(source="get_absolute_url", read_only=True)
    kind = DatasetKindField(read_only=True)
    team = serializers.SlugRelatedField[Any](slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField[Any](slug_field="username", read_only=True)
    profile = ProfileSerializer(source="*", read_only=True)

    class Meta:
        model = Dataset
        fields = [
            "url",
            "page",
            "name",
            "version",
            "kind",
            "description",
            "team",
            "file_format",
            "original_name",
            "size",
            "sha256",
            "created_by",
            "created_at",
            "profile",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, obj: Dataset) -> str:
        return reverse(
            "datasets-api:dataset",
            kwargs={"dataset_name": obj.name, "dataset_version": obj.version},
            request=self.context.get("request"),
        )


class DatasetDetailSerializer(DatasetSerializer):
    profile = ProfileDetailSerializer(source="*", read_only=True)


class DatasetCreateSerializer(StrictSerializer):
    team = serializers.SlugRelatedField[Team](
        slug_field="slug", queryset=Team.objects.all(), help_text="The owning team's slug."
    )
    name = serializers.SlugField(max_length=100, help_text="e.g. churn-eval")
    version = serializers.CharField(max_length=64, help_text=VERSION_RULE)
    kind = DatasetKindField()
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=MAX_DESCRIPTION_CHARS
    )
    file = serializers.FileField(
        help_text="CSV (UTF-8, header row) or Parquet; its type is read from its bytes."
    )


class ExampleSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="0-based row of the file.")
    value = serializers.JSONField(allow_null=True)


class ProblemSerializer(serializers.Serializer):
    kind = ProblemKindField()
    count = serializers.IntegerField()
    message = serializers.CharField()
    examples = ExampleSerializer(many=True)


class ColumnReportSerializer(serializers.Serializer):
    column = serializers.CharField()
    expected = serializers.CharField(help_text="The contract's rule, e.g. number, ≥ 18, required.")
    present = serializers.BooleanField()
    ok = serializers.BooleanField()
    problems = ProblemSerializer(many=True)

    # Declared here rather than as an attribute: one named ``required`` would shadow the
    # serializer's own ``Field.required``.
    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["required"] = serializers.BooleanField()
        return fields


class ContractReportSerializer(serializers.Serializer):
    dataset = serializers.CharField()
    dataset_version = serializers.CharField()
    model = serializers.CharField()
    version = serializers.CharField()
    rows = serializers.IntegerField()
    ok = serializers.BooleanField(help_text="No problem in any column, none missing.")
    columns = ColumnReportSerializer(many=True)
    missing_columns = serializers.ListField(child=serializers.CharField())
    absent_optional = serializers.ListField(child=serializers.CharField())
    extra_columns = serializers.ListField(
        child=serializers.CharField(), help_text="File columns the contract does not name."
    )
    not_checked = serializers.ListField(
        child=serializers.CharField(), help_text="Contract keywords this check does not run."
    )


class ValidationQuerySerializer(StrictSerializer):
    model = serializers.SlugField(max_length=100)
    version = serializers.CharField(max_length=64)
