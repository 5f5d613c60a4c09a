"""Serializers of the drift-monitoring API: a version's monitoring settings (read and
written), and its drift reports, in a list (the headline) and whole (every column with its
histograms)."""

from __future__ import annotations

import math
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from portal.api.serializers import StrictSerializer
from portal.jobs import JobStatus
from portal.webhooks.services import url_problem
from registry.monitoring.models import (
    MAX_WINDOW_HOURS,
    DriftReport,
    Schedule,
    Trigger,
    WindowSource,
)
from registry.monitoring.selection import ColumnKind, Mode, StatTest
from registry.monitoring.services.configs import MAX_COLUMNS

MAX_PATH_KEYS = 20
# A report's job state is ``job_status``, as for every job in the API.
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
TESTS = [str(test) for test in StatTest if test != StatTest.NONE]


# Named choice sets: "kind", "source", "mode" and "trigger" name other choice sets elsewhere
# in the API, and the schema must not guess between them.


@extend_schema_field(
    {"type": "string", "enum": [*ColumnKind, ""]}, component_name="DriftColumnKindEnum"
)
class ColumnKindField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=[str(kind) for kind in ColumnKind], **kwargs)


@extend_schema_field({"type": "string", "enum": [*TESTS, ""]}, component_name="DriftTestEnum")
class StatTestField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=TESTS, **kwargs)


@extend_schema_field(
    {"type": "string", "enum": WindowSource.values}, component_name="DriftSourceEnum"
)
class SourceField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=WindowSource.choices, **kwargs)


@extend_schema_field(
    {"type": "string", "enum": Schedule.values}, component_name="DriftScheduleEnum"
)
class ScheduleField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Schedule.choices, **kwargs)


@extend_schema_field({"type": "string", "enum": [*Mode]}, component_name="DriftModeEnum")
class ModeField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=[str(mode) for mode in Mode], **kwargs)


@extend_schema_field({"type": "string", "enum": Trigger.values}, component_name="DriftTriggerEnum")
class TriggerField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Trigger.choices, **kwargs)


class FiniteFloatField(serializers.FloatField):
    """DRF's FloatField takes "NaN", which no range check refuses and JSON cannot carry."""

    def to_internal_value(self, data: Any) -> float:
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("invalid")
        return value


# Settings -------------------------------------------------------------------------------


class DatasetRefSerializer(StrictSerializer):
    """A dataset as the datasets API names it: /api/v1/datasets/<name>/<version>/."""

    name = serializers.SlugField(max_length=100, help_text="The dataset's name.")
    version = serializers.CharField(max_length=64, help_text="The dataset's version.")


class MonitoredColumnSerializer(StrictSerializer):
    """One compared column; what is left out is filled in from the reference's profile."""

    name = serializers.CharField(max_length=200, help_text="A column of the reference.")
    path = serializers.ListField(
        child=serializers.CharField(max_length=200),
        max_length=MAX_PATH_KEYS,
        required=False,
        help_text="Where the value sits in a logged request's features; default [name].",
    )
    kind = ColumnKindField(
        required=False, allow_blank=True, help_text="Default: numeric for number columns."
    )
    test = StatTestField(
        required=False,
        allow_blank=True,
        help_text="Blank: chosen per report by the reference's size and the column's values.",
    )
    threshold = FiniteFloatField(
        required=False,
        allow_null=True,
        help_text="A p-value for tests, a distance for distances; null for the test's default.",
    )
    critical = serializers.BooleanField(
        required=False, help_text="Alert on this column's drift alone."
    )


class MonitoringConfigSerializer(StrictSerializer):
    """What drift to watch for one version. A PUT replaces every setting: one left out takes
    its default, except columns (see there)."""

    model = serializers.CharField(source="version.model.name", read_only=True)
    version = serializers.CharField(source="version.version", read_only=True)
    reference = DatasetRefSerializer(help_text="The dataset the window is compared with.")
    columns = serializers.ListField(
        child=MonitoredColumnSerializer(),
        max_length=MAX_COLUMNS,
        required=False,
        allow_null=True,
        help_text="Left out or null: the saved columns; drafted from the input contract when "
        "none are saved or the reference changed.",
    )
    prediction_column = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="The reference column holding the model's outputs (prediction drift).",
    )
    target_column = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="The reference column holding true labels (target drift).",
    )
    window_hours = serializers.IntegerField(
        min_value=1, max_value=MAX_WINDOW_HOURS, required=False, default=24
    )
    current = DatasetRefSerializer(
        required=False,
        allow_null=True,
        default=None,
        help_text="source dataset: the dataset compared with the reference.",
    )
    schedule = ScheduleField(required=False, default=Schedule.DAILY)
    drift_share = FiniteFloatField(
        min_value=0.01,
        max_value=1.0,
        required=False,
        default=0.5,
        help_text="The dataset drifts when at least this share of its columns drift.",
    )
    mode = ModeField(required=False, default=Mode.TWO_SAMPLE)
    webhook_url = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        allow_null=True,
        default="",
        help_text="Called on each alert (http or https). Shown only to those who may change "
        "the settings: null for everyone else.",
    )
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    page = serializers.CharField(source="get_absolute_url", read_only=True)

    # Declared here rather than as an attribute: one named ``source`` would shadow the
    # serializer's own ``Field.source``.
    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["source"] = SourceField(required=False, default=WindowSource.LOGS)
        return fields

    def validate_webhook_url(self, value: str | None) -> str:
        problem = url_problem(value) if value else ""
        if problem:
            raise serializers.ValidationError(problem)
        return value or ""

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not self.context.get("shows_webhook", False):
            data["webhook_url"] = None  # it may hold the receiver's secret
        return data


# Reports --------------------------------------------------------------------------------


class DriftColumnSerializer(serializers.Serializer[dict[str, Any]]):
    """One column compared: the test, its verdict and both histograms over shared bins."""

    name = serializers.CharField()
    kind = serializers.CharField(help_text="numeric or categorical.")
    test = serializers.CharField(help_text="The test run, e.g. ks, wasserstein, psi.")
    statistic = serializers.FloatField(allow_null=True)
    p_value = serializers.FloatField(allow_null=True, help_text="Null for distances.")
    threshold = serializers.FloatField(allow_null=True)
    drifted = serializers.BooleanField()
    score = serializers.FloatField(required=False, help_text="Orders columns by drift.")
    critical = serializers.BooleanField(required=False)
    mode = serializers.CharField(required=False)
    n_reference = serializers.IntegerField(required=False)
    n_current = serializers.IntegerField(required=False)
    reference_histogram = serializers.JSONField(
        required=False,
        help_text="Numbers: {edges, counts}; categories: {values, counts, other}.",
    )
    current_histogram = serializers.JSONField(required=False, help_text="Over the same bins.")
    note = serializers.CharField(required=False, allow_blank=True)
    band = serializers.CharField(
        allow_null=True, required=False, help_text="PSI: none, moderate or major."
    )
    exact = serializers.BooleanField(required=False)
    error_bound = serializers.FloatField(
        allow_null=True, required=False, help_text="Bounded mode: how far the statistic may be."
    )


class DriftReportRowSerializer(serializers.ModelSerializer[DriftReport]):
    """A report in a list: its window, its job and its headline, no columns."""

    url = serializers.SerializerMethodField()
    page = serializers.CharField(source="get_absolute_url", read_only=True)
    model = serializers.CharField(source="version.model.name", read_only=True)
    version = serializers.CharField(source="version.version", read_only=True)
    trigger = TriggerField(read_only=True)
    mode = ModeField(read_only=True)
    job_status = serializers.ChoiceField(
        source="phase",
        choices=JobStatus.choices,
        read_only=True,
        help_text="queued → running → succeeded, failed or cancelled.",
    )
    started_by = serializers.SlugRelatedField[Any](slug_field="username", read_only=True)
    drifted_columns = serializers.ListField(child=serializers.CharField(), read_only=True)
    alert = serializers.IntegerField(
        source="alert_id", read_only=True, allow_null=True, help_text="The backlog item filed."
    )

    class Meta:
        model = DriftReport
        fields = [
            "id",
            "url",
            "page",
            "model",
            "version",
            "window_start",
            "window_end",
            "trigger",
            "source",
            "mode",
            *JOB_FIELDS,
            "started_by",
            "created_at",
            "bounded",
            "reference_rows",
            "current_rows",
            "drifted",
            "share",
            "share_threshold",
            "drifted_columns",
            "alert",
            "duration_seconds",
        ]
        read_only_fields = fields

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["source"] = SourceField(read_only=True)  # see MonitoringConfigSerializer
        return fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, report: DriftReport) -> str:
        kwargs = {
            "model_name": report.version.model.name,
            "version": report.version.version,
            "report_id": report.pk,
        }
        return reverse("monitoring-api:report", kwargs=kwargs, request=self.context.get("request"))


class DriftReportSerializer(DriftReportRowSerializer):
    """A report with every result."""

    columns = DriftColumnSerializer(many=True, read_only=True, help_text="Most drifted first.")
    predictions = DriftColumnSerializer(
        many=True, read_only=True, help_text="The model's outputs, when the reference has them."
    )
    target = serializers.JSONField(
        read_only=True,
        help_text="Corrected labels against the reference's: a column result, or {note}.",
    )
    accuracy = serializers.JSONField(
        read_only=True,
        help_text="From feedback: {days, accuracy, slope_per_day, p_value, trend}; {} for "
        "dataset windows.",
    )
    notes = serializers.ListField(child=serializers.CharField(), read_only=True)
    alert_url = serializers.SerializerMethodField(help_text="The alert in the backlog API.")
    alert_page = serializers.SerializerMethodField(help_text="The alert's page.")

    class Meta(DriftReportRowSerializer.Meta):
        fields = [
            *DriftReportRowSerializer.Meta.fields,
            "columns",
            "predictions",
            "target",
            "accuracy",
            "notes",
            "alert_url",
            "alert_page",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_alert_url(self, report: DriftReport) -> str | None:
        if report.alert_id is None:
            return None
        kwargs = {"item_id": report.alert_id}
        request = self.context.get("request")
        return reverse("backlog-api:backlog-item-detail", kwargs=kwargs, request=request)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_alert_page(self, report: DriftReport) -> str | None:
        if report.alert_id is None:
            return None
        return reverse("backlog:item", args=[report.alert_id])
