"""Read paths of the experiment pages: one function per page, each with a fixed query count.

The experiment page reads a page of runs plus the chosen params and metric summaries of that
page only; the compare page reads runs, params, summaries and the charted series in one query
each, however many runs are compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Max, OuterRef, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from registry.experiments import series
from registry.experiments.downsample import DEFAULT_LIMIT, downsample
from registry.experiments.models import (
    Experiment,
    MetricSummary,
    Param,
    Promotion,
    Run,
    RunStatus,
    RunTag,
)
from registry.experiments.queries import Compared, compared_runs
from registry.experiments.sketch import MAX_POINTS as SKETCH_POINTS
from registry.experiments.sketch import Sketch

RUNS_PER_PAGE = 25
DEFAULT_COLUMNS = 3  # of each kind, when none are chosen
PARAMS, METRICS = "params", "metrics"
MAX_CHARTS = 12  # series charted when the page names none: the first metrics by key
CHART_POINTS = 20_000  # points one chart draws at most, over all its lines
RAW_POINTS = 200_000  # charts of more logged points than this are drawn from the sketches
PLAIN_SORTS = {"started": "started_at", "name": "name", "status": "status"}


@dataclass(frozen=True)
class Column:
    """A param or metric shown as a column, written ``params.lr`` / ``metrics.loss``."""

    kind: str
    key: str

    @property
    def name(self) -> str:
        return f"{self.kind}.{self.key}"

    @classmethod
    def parse(cls, text: str) -> Column | None:
        kind, _, key = text.strip().partition(".")
        return cls(kind, key) if kind in (PARAMS, METRICS) and key else None


def parse_columns(values: Sequence[str]) -> list[Column]:
    """Columns from ``?columns=params.lr,metrics.loss`` (repeated or comma-separated)."""
    columns: list[Column] = []
    for value in values:
        for part in value.split(","):
            column = Column.parse(part)
            if column is not None and column not in columns:
                columns.append(column)
    return columns


def split_pair(text: str) -> tuple[str, str | None]:
    """``"key=value"`` → (key, value); ``"key"`` → (key, None)."""
    key, equals, value = text.strip().partition("=")
    return key.strip(), (value.strip() if equals else None)


# The list ------------------------------------------------------------------------------------


def experiment_list() -> QuerySet[Experiment]:
    return (
        Experiment.objects.select_related("team", "model")
        .annotate(run_count=Count("runs"), last_run=Max("runs__started_at"))
        .order_by(F("last_run").desc(nulls_last=True), "name")
    )


def get_experiment(pk: int) -> Experiment:
    return get_object_or_404(Experiment.objects.select_related("team", "model"), pk=pk)


# One experiment's runs -------------------------------------------------------------------------


@dataclass(frozen=True)
class RunFilters:
    status: str = ""
    tag: str = ""  # key or key=value
    param: str = ""  # key or key=value

    def apply(self, runs: QuerySet[Run]) -> QuerySet[Run]:
        if self.status in RunStatus.values:
            runs = runs.filter(status=self.status)
        for relation, text in (("tags", self.tag), ("params", self.param)):
            key, value = split_pair(text)
            if key:
                runs = runs.filter(**{f"{relation}__key": key})
            if key and value is not None:
                runs = runs.filter(**{f"{relation}__value": value})
        return runs


@dataclass
class RunRow:
    run: Run
    values: dict[str, Any] = field(default_factory=dict)  # column name → value
    tags: list[tuple[str, str]] = field(default_factory=list)
    cells: list[Any] = field(default_factory=list)  # values in the order of the columns


@dataclass
class ExperimentPage:
    experiment: Experiment
    page: Page[Run]
    rows: list[RunRow]
    columns: list[Column]
    param_keys: list[str]
    metric_keys: list[str]
    sort: str


def _sort_value(column: Column) -> Subquery:
    if column.kind == PARAMS:
        source: QuerySet[Any] = Param.objects.filter(run=OuterRef("pk"), key=column.key)
        return Subquery(source.values("value")[:1])
    source = MetricSummary.objects.filter(run=OuterRef("pk"), key=column.key)
    return Subquery(source.values("last")[:1])


def _ordered(runs: QuerySet[Run], sort: str, columns: list[Column]) -> tuple[QuerySet[Run], str]:
    name = sort.lstrip("-")
    descending = sort.startswith("-")
    if name in PLAIN_SORTS:
        field_ = F(PLAIN_SORTS[name])
    else:
        column = Column.parse(name)
        if column is None or column not in columns:
            return runs.order_by("-started_at", "-pk"), "-started"
        runs = runs.annotate(sort_value=_sort_value(column))
        field_ = F("sort_value")
    order = field_.desc(nulls_last=True) if descending else field_.asc(nulls_last=True)
    return runs.order_by(order, "-started_at", "-pk"), sort


def experiment_page(
    experiment: Experiment,
    *,
    columns: list[Column],
    filters: RunFilters,
    sort: str = "",
    page: str | None = None,
) -> ExperimentPage:
    runs = Run.objects.filter(experiment=experiment)
    param_keys = _keys(Param.objects.filter(run__in=runs))
    metric_keys = _keys(MetricSummary.objects.filter(run__in=runs))
    if not columns:
        columns = [Column(PARAMS, key) for key in param_keys[:DEFAULT_COLUMNS]]
        columns += [Column(METRICS, key) for key in metric_keys[:DEFAULT_COLUMNS]]
    ordered, sort = _ordered(filters.apply(runs.select_related("user")), sort, columns)
    listed = Paginator(ordered, RUNS_PER_PAGE).get_page(page)
    rows = _run_rows(list(listed.object_list), columns)
    return ExperimentPage(experiment, listed, rows, columns, param_keys, metric_keys, sort)


def _keys(rows: QuerySet[Any]) -> list[str]:
    return list(rows.order_by("key").values_list("key", flat=True).distinct())


def _run_rows(runs: list[Run], columns: list[Column]) -> list[RunRow]:
    rows = {run.pk: RunRow(run) for run in runs}
    wanted = {kind: [c.key for c in columns if c.kind == kind] for kind in (PARAMS, METRICS)}
    if wanted[PARAMS]:
        params = Param.objects.filter(run_id__in=rows, key__in=wanted[PARAMS])
        for run_id, key, value in params.values_list("run_id", "key", "value"):
            rows[run_id].values[f"{PARAMS}.{key}"] = value
    if wanted[METRICS]:
        summaries = MetricSummary.objects.filter(run_id__in=rows, key__in=wanted[METRICS])
        for run_id, key, last in summaries.values_list("run_id", "key", "last"):
            rows[run_id].values[f"{METRICS}.{key}"] = last
    tags = RunTag.objects.filter(run_id__in=rows).order_by("key")
    for run_id, key, value in tags.values_list("run_id", "key", "value"):
        rows[run_id].tags.append((key, value))
    for row in rows.values():
        row.cells = [row.values.get(column.name) for column in columns]
    return list(rows.values())


# One run ---------------------------------------------------------------------------------------


ChartPoint = tuple[int, float, int]  # (step, value, milliseconds since the epoch)


@dataclass(frozen=True)
class Chart:
    key: str
    series: dict[int, list[ChartPoint]]  # run id → its line as plotted
    points: int  # points stored, over every run
    shown: int  # points plotted
    per_trace: int  # the most points one run's line may have

    @property
    def downsampled(self) -> bool:
        return self.shown < self.points


@dataclass
class RunPage:
    run: Run
    params: list[tuple[str, str]]
    tags: list[tuple[str, str]]
    summaries: list[MetricSummary]
    charts: list[Chart]
    promotions: list[Promotion]  # the model versions registered from the run


def run_page(pk: int) -> RunPage:
    run = get_object_or_404(
        Run.objects.select_related("experiment", "experiment__team", "user"), pk=pk
    )
    params = list(Param.objects.filter(run=run).order_by("key").values_list("key", "value"))
    tags = list(RunTag.objects.filter(run=run).order_by("key").values_list("key", "value"))
    summaries = list(MetricSummary.objects.filter(run=run).order_by("key"))
    charts = metric_charts(
        [run.pk], [s.key for s in summaries], {run.pk: {s.key: s for s in summaries}}
    )
    promotions = list(
        Promotion.objects.filter(run=run).select_related("version__model", "promoted_by")
    )
    return RunPage(run, params, tags, summaries, charts, promotions)


def trace_limit(runs: int) -> int:
    """Points one run's line may have when ``runs`` lines share a chart."""
    return max(SKETCH_POINTS, min(DEFAULT_LIMIT, CHART_POINTS // max(runs, 1)))


def metric_charts(
    run_ids: list[int], keys: list[str], summaries: dict[int, dict[str, MetricSummary]]
) -> list[Chart]:
    """A chart per key, a line per run, each within ``trace_limit`` points.

    When the charts cover at most RAW_POINTS logged points they are drawn from the points
    (one query); beyond that, from each series' sketch on its summary (no query), so the
    cost stays flat however long the runs.
    """
    if not run_ids or not keys:
        return []
    limit = trace_limit(len(run_ids))
    stored = {key: sum(s[key].count for s in summaries.values() if key in s) for key in keys}
    lines: dict[tuple[int, str], list[ChartPoint]]
    if sum(stored.values()) <= RAW_POINTS:
        lines = {line: arrays.points() for line, arrays in series.iterate(run_ids, keys)}
    else:
        lines = {
            (run_id, key): sketch.points()
            for run_id in run_ids
            for key, summary in summaries.get(run_id, {}).items()
            if key in stored and len(sketch := Sketch.from_json(summary.sketch))
        }
    charts = []
    for key in keys:
        kept = {
            run_id: downsample(lines[run_id, key], limit)  # type: ignore[type-var]
            for run_id in run_ids
            if (run_id, key) in lines
        }
        shown = sum(len(line) for line in kept.values())
        charts.append(Chart(key, kept, stored[key], shown, limit))
    return charts


# Compare ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparePage(Compared):
    """What the compare API reads of the runs, and the page's charts."""

    charts: list[Chart] = field(default_factory=list)


def compare_runs(
    experiment: Experiment,
    run_ids: list[int],
    *,
    chart_keys: Sequence[str] | None = None,
) -> ComparePage:
    """The runs of ``experiment`` among ``run_ids`` (in that order), what they logged, and a
    chart per metric of ``chart_keys`` (None: the first MAX_CHARTS metrics the runs logged)."""
    compared = compared_runs(experiment, run_ids)
    if chart_keys is None:
        charted = compared.metric_keys[:MAX_CHARTS]
    else:
        charted = [key for key in chart_keys if key in compared.metric_keys]
    charts = metric_charts([run.pk for run in compared.runs], charted, compared.summaries)
    return ComparePage(
        **{f.name: getattr(compared, f.name) for f in fields(Compared)}, charts=charts
    )
