"""Experiments API serializers. Writes are checked here for shape, then by the services.

Teams are written by slug, registered models by name, experiments by id. A metric point's
``timestamp`` is whole milliseconds since the epoch, as clients log it; a run's own times
are ISO 8601 like every other resource's.

A logged batch is parsed by plain code (``batches.batch_from_body``), not a serializer per
point. The serializers of histories and comparisons below describe those bodies for the
schema; the responses are built as dicts.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.api.serializers import RowFastSerializerMixin, StrictSerializer, api_datetime
from portal.models import Team
from registry.experiments.models import Direction, Experiment, Run, RunStatus
from registry.experiments.queries import CompareData, Point, Series
from registry.experiments.times import milliseconds
from registry.models import RegisteredModel

MAX_TEXT = 50_000
MAX_PACKAGES = 500_000  # a frozen environment: pip freeze or a conda YAML
MAX_DATASETS = 100
MAX_DIRECTIONS = 1_000
END_STATUSES = [s for s in RunStatus.values if s != RunStatus.RUNNING]


@extend_schema_field({"type": "string", "enum": RunStatus.values}, component_name="RunStatusEnum")
class RunStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=RunStatus.choices, **kwargs)


@extend_schema_field({"type": "string", "enum": END_STATUSES}, component_name="RunEndStatusEnum")
class EndStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=END_STATUSES, **kwargs)


@extend_schema_field(
    {"type": "string", "enum": Direction.values}, component_name="MetricDirectionEnum"
)
class DirectionField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Direction.choices, **kwargs)


# Experiments --------------------------------------------------------------------------------


class ExperimentSerializer(RowFastSerializerMixin, serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="experiments-api:experiment-detail", lookup_url_kwarg="experiment_id"
    )
    team = serializers.SlugRelatedField[Any](slug_field="slug", read_only=True)
    model = serializers.SlugRelatedField[Any](
        slug_field="name", read_only=True, allow_null=True, help_text="The model the runs train."
    )
    created_by = serializers.SlugRelatedField[Any](slug_field="username", read_only=True)
    metric_directions = serializers.DictField(
        child=DirectionField(),
        read_only=True,
        help_text='Which way is better per metric key; "max" when a key is not named.',
    )

    class Meta:
        model = Experiment
        fields = [
            "id",
            "url",
            "name",
            "description",
            "team",
            "model",
            "metric_directions",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class ExperimentCreateSerializer(StrictSerializer):
    read_only_names = ("id", "url", "created_by", "created_at")

    name = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True, max_length=MAX_TEXT, required=False)
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    model = serializers.SlugRelatedField(
        slug_field="name",
        queryset=RegisteredModel.objects.all(),
        allow_null=True,
        required=False,
        help_text="The registered model the runs train, by name.",
    )
    metric_directions = serializers.DictField(
        child=DirectionField(), required=False, help_text='e.g. {"loss": "min"}'
    )

    def validate_metric_directions(self, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_DIRECTIONS:
            raise serializers.ValidationError(f"At most {MAX_DIRECTIONS:,} metric keys.")
        return value


class ExperimentUpdateSerializer(StrictSerializer):
    """A PATCH: what is sent changes; ``metric_directions`` replaces the whole mapping."""

    read_only_names = ("id", "url", "name", "team", "created_by", "created_at")

    description = serializers.CharField(allow_blank=True, max_length=MAX_TEXT, required=False)
    model = serializers.SlugRelatedField(
        slug_field="name",
        queryset=RegisteredModel.objects.all(),
        allow_null=True,
        required=False,
        help_text="The registered model the runs train, by name; null for none.",
    )
    metric_directions = serializers.DictField(
        child=DirectionField(), required=False, help_text='e.g. {"loss": "min"}'
    )

    def validate_metric_directions(self, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_DIRECTIONS:
            raise serializers.ValidationError(f"At most {MAX_DIRECTIONS:,} metric keys.")
        return value


# Runs ---------------------------------------------------------------------------------------


class RunDatasetSerializer(StrictSerializer):
    name = serializers.CharField(max_length=300)
    sha256 = serializers.RegexField(r"^[0-9a-fA-F]{64}$", help_text="64 hexadecimal digits.")
    role = serializers.CharField(
        max_length=40, allow_blank=True, required=False, help_text='e.g. "training".'
    )


class MetricSummarySerializer(serializers.Serializer):
    """A metric's summary; ``last_timestamp`` in milliseconds since the epoch."""

    key = serializers.CharField()
    last = serializers.FloatField()
    last_step = serializers.IntegerField()
    last_timestamp = serializers.IntegerField()
    min = serializers.FloatField()
    max = serializers.FloatField()
    count = serializers.IntegerField()

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return summary_json(instance)


def summary_json(summary: Any) -> dict[str, Any]:
    return {
        "key": summary.key,
        "last": summary.last,
        "last_step": summary.last_step,
        "last_timestamp": milliseconds(summary.last_timestamp),
        "min": summary.min,
        "max": summary.max,
        "count": summary.count,
    }


class RunKeyValueSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=250)
    value = serializers.CharField()


class RunSerializer(RowFastSerializerMixin, serializers.ModelSerializer):
    """A run as lists show it; ``metrics`` maps each metric key to its last value."""

    url = serializers.HyperlinkedIdentityField(
        view_name="experiments-api:run-detail", lookup_url_kwarg="run_id"
    )
    experiment = serializers.IntegerField(source="experiment_id", read_only=True)
    user = serializers.SlugRelatedField[Any](slug_field="username", read_only=True)
    status = RunStatusField(read_only=True)
    metrics = serializers.SerializerMethodField()

    class Meta:
        model = Run
        fields = [
            "id",
            "url",
            "experiment",
            "name",
            "status",
            "user",
            "started_at",
            "ended_at",
            "git_commit",
            "metrics",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DictField(child=serializers.FloatField()))
    def get_metrics(self, run: Run) -> dict[str, float]:
        return {summary.key: summary.last for summary in run.summaries.all()}


class RunEnvironmentSerializer(serializers.Serializer):
    python_version = serializers.CharField()
    packages = serializers.CharField(help_text="pip freeze, requirements.txt or a conda YAML.")


class RunDetailSerializer(RunSerializer):
    """A run with its params, tags, metric summaries, datasets and environment."""

    datasets = RunDatasetSerializer(many=True, read_only=True)
    environment = serializers.SerializerMethodField()
    params = RunKeyValueSerializer(many=True, read_only=True)
    tags = RunKeyValueSerializer(many=True, read_only=True)
    summaries = MetricSummarySerializer(many=True, read_only=True)

    class Meta(RunSerializer.Meta):
        fields = [
            *RunSerializer.Meta.fields,
            "source",
            "notes",
            "notes_html",
            "datasets",
            "environment",
            "params",
            "tags",
            "summaries",
        ]
        read_only_fields = fields

    @extend_schema_field(RunEnvironmentSerializer)
    def get_environment(self, run: Run) -> dict[str, str]:
        return {"python_version": run.python_version, "packages": run.packages}


class RunCreateSerializer(StrictSerializer):
    read_only_names = (
        *("id", "url", "status", "user", "ended_at", "metrics", "notes_html"),
        *("environment", "params", "tags", "summaries"),
    )

    experiment = serializers.PrimaryKeyRelatedField(
        queryset=Experiment.objects.select_related("team"), help_text="The experiment's id."
    )
    name = serializers.CharField(max_length=200, allow_blank=True, required=False)
    started_at = serializers.DateTimeField(required=False, help_text="Now when left out.")
    git_commit = serializers.CharField(max_length=64, allow_blank=True, required=False)
    notes = serializers.CharField(
        max_length=MAX_TEXT,
        allow_blank=True,
        required=False,
        trim_whitespace=False,
        help_text="Markdown.",
    )
    datasets = serializers.ListField(
        child=RunDatasetSerializer(), max_length=MAX_DATASETS, required=False
    )
    python_version = serializers.CharField(max_length=40, allow_blank=True, required=False)
    packages = serializers.CharField(
        max_length=MAX_PACKAGES,
        allow_blank=True,
        required=False,
        trim_whitespace=False,
        help_text="The frozen package list: pip freeze, requirements.txt or a conda YAML.",
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        # "source" is also a Field attribute, so it cannot be declared on the class body.
        fields = super().get_fields()
        fields["source"] = serializers.CharField(
            max_length=500, allow_blank=True, required=False, help_text="Script or notebook."
        )
        return fields


class EndRunSerializer(StrictSerializer):
    status = EndStatusField(help_text="How the run ended.")
    ended_at = serializers.DateTimeField(required=False, help_text="Now when left out.")


# Series and comparisons ---------------------------------------------------------------------


class SeriesPointSerializer(serializers.Serializer):
    step = serializers.IntegerField()
    value = serializers.FloatField()
    timestamp = serializers.IntegerField(help_text="Milliseconds since the epoch.")


def points_json(points: list[Point]) -> list[dict[str, Any]]:
    return [{"step": step, "value": value, "timestamp": stamp} for step, value, stamp in points]


class MetricHistorySerializer(serializers.Serializer):
    key = serializers.CharField()
    points = SeriesPointSerializer(many=True, help_text="In step order.")
    total = serializers.IntegerField(help_text="Points logged.")
    downsampled = serializers.BooleanField(
        help_text="True when points keeps each bucket's first, min and max of a longer series."
    )


def history_json(key: str, series: Series) -> dict[str, Any]:
    return {
        "key": key,
        "points": points_json(series.points),
        "total": series.total,
        "downsampled": series.downsampled,
    }


class ComparedRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = RunStatusField()
    user = serializers.CharField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    params = serializers.DictField(child=serializers.CharField())
    metrics = serializers.DictField(child=MetricSummarySerializer(), help_text="Summaries by key.")


class RunSeriesSerializer(serializers.Serializer):
    run = serializers.IntegerField()
    points = SeriesPointSerializer(many=True)
    total = serializers.IntegerField()
    downsampled = serializers.BooleanField()


class ExperimentCompareSerializer(serializers.Serializer):
    experiment = serializers.IntegerField()
    runs = ComparedRunSerializer(many=True, help_text="In the order asked for.")
    param_keys = serializers.ListField(child=serializers.CharField())
    differing_params = serializers.ListField(
        child=serializers.CharField(), help_text="Keys whose value is not the same in every run."
    )
    best = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Per metric key, the run whose last value is best by the experiment's direction.",
    )
    series = serializers.DictField(
        child=RunSeriesSerializer(many=True),
        help_text="Per metric asked for, one series per run that logged it.",
    )


def compare_json(data: CompareData) -> dict[str, Any]:
    runs = [
        {
            "id": run.pk,
            "name": run.name,
            "status": run.status,
            "user": run.user.username,
            "started_at": api_datetime(run.started_at),
            "ended_at": api_datetime(run.ended_at) if run.ended_at else None,
            "params": data.params[run.pk],
            "metrics": {key: summary_json(s) for key, s in data.summaries[run.pk].items()},
        }
        for run in data.runs
    ]
    series = {
        key: [
            {
                "run": run_id,
                "points": points_json(one.points),
                "total": one.total,
                "downsampled": one.downsampled,
            }
            for run_id, one in by_run.items()
        ]
        for key, by_run in data.series.items()
    }
    return {
        "experiment": data.experiment.pk,
        "runs": runs,
        "param_keys": data.param_keys,
        "differing_params": data.differing_params,
        "best": data.best,
        "series": series,
    }
