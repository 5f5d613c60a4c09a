"""Read paths of experiments and runs: a constant number of queries whatever the runs.

- Run search turns each clause into an EXISTS on MetricSummary (key, last) or Param (key,
  value), so PostgreSQL answers "metrics.accuracy > 0.9" from the metric_search index rather
  than by visiting every run; ordering by a metric is a subquery on the same summaries.
- A metric series is read as plain tuples in step order from the (run, key, step) index and
  thinned by ``downsample`` for charts.
- ``compared_runs`` is the read path the compare page and the compare API share: runs,
  params and summaries in three queries for 2 or 100 runs; ``compare_data`` adds the API's
  series (the page draws its charts with ``page_queries.metric_charts``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields

from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery

from registry.experiments import series
from registry.experiments.downsample import downsample
from registry.experiments.models import (
    Experiment,
    MetricSummary,
    Param,
    Run,
    RunTag,
)
from registry.experiments.search import Clause, Order, parse_filter, parse_order
from registry.experiments.services.keys import key_problem

MIN_POINTS = 4  # downsample keeps a bucket's first, min and max, and the last point
MAX_POINTS = 10_000
MIN_COMPARED, MAX_COMPARED = 2, 100
MAX_COMPARED_METRICS = 20
# Columns a list row never shows: they can be large.
RUN_DETAIL_FIELDS = ("notes", "notes_html", "packages", "datasets", "source")
# The compare page shows how the runs' packages differ, never their notes.
COMPARE_DEFERRED = ("notes", "notes_html")
_LOOKUPS = {"=": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}

Point = tuple[int, float, int]  # (step, value, milliseconds since the epoch)


# Experiments --------------------------------------------------------------------------------


def experiment_api_queryset() -> QuerySet[Experiment]:
    return Experiment.objects.select_related("team", "model", "created_by")


# Runs ---------------------------------------------------------------------------------------


def run_list_queryset() -> QuerySet[Run]:
    """Runs as a list shows them: the user's name and each metric's last value."""
    summaries = MetricSummary.objects.only("id", "run_id", "key", "last")
    return (
        Run.objects.select_related("user")
        .defer(*RUN_DETAIL_FIELDS)
        .prefetch_related(Prefetch("summaries", queryset=summaries))
    )


def run_detail_queryset() -> QuerySet[Run]:
    """A run with its params, tags and metric summaries: four queries."""
    return Run.objects.select_related("user", "experiment__team").prefetch_related(
        Prefetch("params", queryset=Param.objects.order_by("key")),
        Prefetch("tags", queryset=RunTag.objects.order_by("key")),
        "summaries",
    )


def search_runs(
    runs: QuerySet[Run], *, filter_text: str = "", order_text: str = ""
) -> QuerySet[Run]:
    """``runs`` narrowed by the search language and ordered; SearchError when it is invalid."""
    for clause in parse_filter(filter_text):
        runs = runs.filter(_condition(clause))
    return _ordered(runs, parse_order(order_text))


def _condition(clause: Clause) -> Q | Exists:
    if clause.kind == "attribute":
        q = Q(**{clause.key: clause.value})
        return ~q if clause.op == "!=" else q
    if clause.kind == "metric":
        summaries = MetricSummary.objects.filter(run=OuterRef("pk"), key=clause.key)
        lookup = {f"last__{_LOOKUPS.get(clause.op, 'exact')}": clause.value}
        if clause.op == "!=":
            return Exists(summaries.exclude(**lookup))
        return Exists(summaries.filter(**lookup))
    model: type[Param] | type[RunTag] = Param if clause.kind == "param" else RunTag
    rows = model.objects.filter(run=OuterRef("pk"), key=clause.key)
    if clause.op == "!=":  # the run has the key, with another value
        return Exists(rows.exclude(value=clause.value))
    return Exists(rows.filter(value=clause.value))


def _ordered(runs: QuerySet[Run], order: Order | None) -> QuerySet[Run]:
    if order is None:
        return runs.order_by("-started_at", "-pk")
    if order.kind == "attribute":
        name = f"-{order.key}" if order.descending else order.key
        return runs.order_by(name, "-pk")
    last = MetricSummary.objects.filter(run=OuterRef("pk"), key=order.key).values("last")[:1]
    value = F("order_value")
    # Runs without the metric come last either way.
    by = value.desc(nulls_last=True) if order.descending else value.asc(nulls_last=True)
    return runs.annotate(order_value=Subquery(last)).order_by(by, "-started_at", "-pk")


# Metric series ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    points: list[Point]  # in step order, at most the requested number
    total: int  # points logged

    @property
    def downsampled(self) -> bool:
        return len(self.points) < self.total


def check_max_points(max_points: int) -> None:
    if not MIN_POINTS <= max_points <= MAX_POINTS:
        raise ValidationError(
            {"max_points": f"A whole number from {MIN_POINTS} to {MAX_POINTS:,}."}
        )


def metric_history(run_id: int, key: str, max_points: int) -> Series:
    """One metric of one run in step order, thinned to ``max_points``: one query."""
    check_max_points(max_points)
    found = series.read([run_id], [key]).get((run_id, key))
    points = found.points() if found is not None else []
    return Series(points=_thin(points, max_points), total=len(points))


def _thin(points: Sequence[Point], max_points: int) -> list[Point]:
    return downsample(points, max_points)  # type: ignore[type-var]


# Compare ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Compared:
    """What the compare page and the compare API show of a few runs of one experiment, but
    the series: runs, params and summaries in three queries however many runs."""

    experiment: Experiment
    runs: list[Run]  # those of the experiment among the ids asked for, in that order
    params: dict[int, dict[str, str]]  # run id → key → value
    param_keys: list[str]
    differing_params: list[str]  # keys whose value (or absence) is not the same in every run
    summaries: dict[int, dict[str, MetricSummary]]  # run id → key → summary
    metric_keys: list[str]  # every metric key any of the runs logged
    best_last: dict[str, float]  # metric key → the best last value by the direction

    @property
    def best(self) -> dict[str, int]:
        """Per metric key, the first run (in the order asked) with the best last value."""
        best: dict[str, int] = {}
        for run in self.runs:
            for key, summary in self.summaries[run.pk].items():
                if key not in best and summary.last == self.best_last[key]:
                    best[key] = run.pk
        return dict(sorted(best.items()))


@dataclass(frozen=True)
class CompareData(Compared):
    """``Compared`` with each asked-for metric's series, thinned to the asked-for points."""

    series: dict[str, dict[int, Series]] = field(default_factory=dict)  # key → run id → series


def compared_runs(experiment: Experiment, run_ids: Sequence[int]) -> Compared:
    """The runs of ``experiment`` among ``run_ids`` (others are left out), with their params,
    summaries, differing params and best values: three queries."""
    ids = list(dict.fromkeys(run_ids))
    found = {
        run.pk: run
        for run in Run.objects.filter(experiment=experiment, pk__in=ids)
        .select_related("user")
        .defer(*COMPARE_DEFERRED)
    }
    runs = [found[pk] for pk in ids if pk in found]
    params: dict[int, dict[str, str]] = {run.pk: {} for run in runs}
    for run_id, key, value in Param.objects.filter(run_id__in=found).values_list(
        "run_id", "key", "value"
    ):
        params[run_id][key] = value
    summaries: dict[int, dict[str, MetricSummary]] = {run.pk: {} for run in runs}
    for summary in MetricSummary.objects.filter(run_id__in=found):
        summaries[summary.run_id][summary.key] = summary
    param_keys = sorted({key for values in params.values() for key in values})
    return Compared(
        experiment=experiment,
        runs=runs,
        params=params,
        param_keys=param_keys,
        differing_params=[k for k in param_keys if len({p.get(k) for p in params.values()}) > 1],
        summaries=summaries,
        metric_keys=sorted({key for by_key in summaries.values() for key in by_key}),
        best_last=_best_last(experiment, summaries),
    )


def compare_data(
    experiment: Experiment, run_ids: Sequence[int], metric_keys: Sequence[str], max_points: int
) -> CompareData:
    """``compared_runs`` and the series of ``metric_keys``, each thinned to ``max_points``:
    four queries, any number of runs.

    ValidationError (naming ``runs``, ``metrics`` or ``max_points``) when fewer than 2 or more
    than 100 runs are asked for, a run is not in the experiment, or a key is not a key.
    """
    ids = list(dict.fromkeys(run_ids))
    keys = list(dict.fromkeys(metric_keys))
    _check_compare(ids, keys, max_points)
    compared = compared_runs(experiment, ids)
    missing = [str(pk) for pk in ids if pk not in compared.params]
    if missing:
        raise ValidationError({"runs": f"Not runs of {experiment}: {', '.join(missing)}."})
    return CompareData(
        **{f.name: getattr(compared, f.name) for f in fields(Compared)},
        series=_compared_series(ids, keys, max_points),
    )


def _check_compare(ids: list[int], keys: list[str], max_points: int) -> None:
    if not MIN_COMPARED <= len(ids) <= MAX_COMPARED:
        raise ValidationError(
            {"runs": f"Compare from {MIN_COMPARED} to {MAX_COMPARED} runs, not {len(ids)}."}
        )
    if len(keys) > MAX_COMPARED_METRICS:
        raise ValidationError({"metrics": f"At most {MAX_COMPARED_METRICS} metrics at a time."})
    problems = [problem for key in keys if (problem := key_problem(key))]
    if problems:
        raise ValidationError({"metrics": problems})
    check_max_points(max_points)


def _compared_series(
    ids: list[int], keys: list[str], max_points: int
) -> dict[str, dict[int, Series]]:
    """Every series in one query, read and thinned one at a time, so memory holds one series
    however many runs there are."""
    found: dict[str, dict[int, Series]] = {key: {} for key in keys}
    if not keys:
        return found
    for (run_id, key), arrays in series.iterate(ids, keys):
        points = arrays.points()
        found[key][run_id] = Series(points=_thin(points, max_points), total=len(points))
    order = {pk: position for position, pk in enumerate(ids)}  # the runs in the order asked
    return {
        key: dict(sorted(runs.items(), key=lambda item: order[item[0]]))
        for key, runs in found.items()
    }


def _best_last(
    experiment: Experiment, summaries: dict[int, dict[str, MetricSummary]]
) -> dict[str, float]:
    """Per metric key, the best last value of the runs by the experiment's direction."""
    lasts: dict[str, list[float]] = {}
    for by_key in summaries.values():
        for key, summary in by_key.items():
            lasts.setdefault(key, []).append(summary.last)
    return {
        key: (max if experiment.direction(key) == "max" else min)(values)
        for key, values in sorted(lasts.items())
    }
