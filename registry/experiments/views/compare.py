"""Runs of one experiment side by side: differing params, best metrics, charts, packages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from portal.people import signed_in
from portal.text import is_number
from portal.web import HtmxHttpRequest
from registry.experiments import charts
from registry.experiments.models import Experiment, Run
from registry.experiments.packages import differing_packages
from registry.experiments.page_queries import (
    METRICS,
    PARAMS,
    Chart,
    Column,
    ComparePage,
    compare_runs,
    get_experiment,
    parse_columns,
)
from registry.experiments.permissions import can_log

MIN_RUNS, MAX_RUNS = 2, 100
TEMPLATE = "experiments/compare.html"


@dataclass
class ParamRow:
    key: str
    values: list[str | None]  # one per run

    @property
    def differs(self) -> bool:
        return len(set(self.values)) > 1


@dataclass
class MetricRow:
    key: str
    direction: str
    cells: list[tuple[Any, bool]]  # (summary or None, best?) per run


def _run_ids(raw: str) -> tuple[list[int], str | None]:
    """The ids of ``?runs=1,2,3`` in order, without repeats; or why they cannot be compared."""
    ids: list[int] = []
    for part in raw.split(","):
        if not part.strip():
            continue
        if not is_number(part.strip()):
            return [], f"“{part.strip()[:40]}” is not a run number."
        if int(part) not in ids:
            ids.append(int(part))
    if not MIN_RUNS <= len(ids) <= MAX_RUNS:
        return ids, f"Pick from {MIN_RUNS} to {MAX_RUNS} runs to compare; {len(ids)} picked."
    return ids, None


def _param_rows(data: ComparePage) -> list[ParamRow]:
    return [
        ParamRow(key, [data.params[r.pk].get(key) for r in data.runs]) for key in data.param_keys
    ]


def _metric_rows(experiment: Experiment, data: ComparePage) -> list[MetricRow]:
    rows = []
    for key in data.metric_keys:
        summaries = [data.summaries[r.pk].get(key) for r in data.runs]
        best = data.best_last[key]
        cells = [(s, s is not None and s.last == best) for s in summaries]
        rows.append(MetricRow(key, experiment.direction(key), cells))
    return rows


def _numeric(values: list[str | None]) -> bool:
    try:
        return all(value is None or float(value) == float(value) for value in values)
    except ValueError:
        return False


def _axis(column: Column, data: ComparePage) -> charts.Axis:
    values: list[float | str | None] = []
    for run in data.runs:
        if column.kind == PARAMS:
            values.append(data.params.get(run.pk, {}).get(column.key))
        else:
            summary = data.summaries.get(run.pk, {}).get(column.key)
            values.append(summary.last if summary is not None else None)
    return charts.Axis(column.name, values)


def _known(columns: list[Column], params: list[ParamRow], data: ComparePage) -> list[Column]:
    keys = {PARAMS: {row.key for row in params}, METRICS: set(data.metric_keys)}
    return [c for c in columns if c.key in keys[c.kind]]


def _default_parallel(params: list[ParamRow], data: ComparePage) -> list[Column]:
    columns = [Column(PARAMS, r.key) for r in params if r.differs and _numeric(r.values)]
    return columns + [Column(METRICS, key) for key in data.metric_keys[:1]]


def _scatter_axes(
    request: HtmxHttpRequest, options: list[Column], default: list[Column]
) -> tuple[Column | None, Column | None]:
    x = _known_one(request.GET.get("x", ""), options) or (default[0] if default else None)
    metrics = [c for c in options if c.kind == METRICS]
    y = _known_one(request.GET.get("y", ""), options) or (metrics[0] if metrics else None)
    return x, y


def _known_one(text: str, options: list[Column]) -> Column | None:
    column = Column.parse(text)
    return column if column in options else None


def _series(
    chart: Chart, runs: list[Run], colours: dict[int, str], over: str
) -> list[charts.Series]:
    return [
        charts.Series.of(str(run), colours[run.pk], chart.series[run.pk], over)
        for run in runs
        if run.pk in chart.series
    ]


def _canonical(request: HtmxHttpRequest) -> HttpResponse | None:
    """A ticked-boxes GET (``runs=1&runs=2``) goes to the shareable ``runs=1,2``."""
    picked = request.GET.getlist("runs")
    if len(picked) < 2:
        return None
    query: QueryDict = request.GET.copy()
    query.setlist("runs", [",".join(picked)])
    return redirect(f"{request.path}?{query.urlencode(safe=',')}")


@require_GET
def run_compare(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    if (response := _canonical(request)) is not None:
        return response
    experiment = get_experiment(pk)
    ids, problem = _run_ids(request.GET.get("runs", ""))
    context: dict[str, Any] = {"experiment": experiment, "problem": problem}
    if problem:
        return render(request, TEMPLATE, context, status=400)
    chart_keys = parse_columns([f"metrics.{k}" for k in request.GET.getlist("metrics") if k])
    data = compare_runs(
        experiment, ids, chart_keys=[c.key for c in chart_keys] if chart_keys else None
    )
    missing = [pk for pk in ids if pk not in {run.pk for run in data.runs}]
    if missing:
        context["problem"] = (
            f"{experiment.name} has no run {', '.join(map(str, missing))}: "
            "pick runs from its run table."
        )
        return render(request, TEMPLATE, context, status=400)
    context.update(_compare_context(request, experiment, data))
    return render(request, TEMPLATE, context)


def _compare_context(
    request: HtmxHttpRequest, experiment: Experiment, data: ComparePage
) -> dict[str, Any]:
    colours = {run.pk: charts.run_colour(index) for index, run in enumerate(data.runs)}
    over = charts.TIME if request.GET.get("over") == charts.TIME else charts.STEP
    params = _param_rows(data)
    show_all = request.GET.get("params") == "all"
    options = [Column(PARAMS, r.key) for r in params] + [
        Column(METRICS, k) for k in data.metric_keys
    ]
    default_parallel = _default_parallel(params, data)
    parallel = _known(parse_columns(request.GET.getlist("parallel")), params, data)
    parallel = parallel or default_parallel
    x, y = _scatter_axes(request, options, default_parallel or options)
    labels = [str(run) for run in data.runs]
    return {
        "runs": [(run, colours[run.pk]) for run in data.runs],
        "runs_value": ",".join(str(run.pk) for run in data.runs),
        "show_all": show_all,
        "param_rows": params if show_all else [r for r in params if r.differs],
        "same_count": sum(1 for r in params if not r.differs),
        "metric_rows": _metric_rows(experiment, data),
        "charts": [
            {
                "id": f"metric-chart-{index}",
                "chart": chart,
                "figure": charts.metric_chart(
                    chart.key, _series(chart, data.runs, colours, over), over
                ),
            }
            for index, chart in enumerate(data.charts)
        ],
        "uncharted": len(data.metric_keys) - len(data.charts),
        "charted": {chart.key for chart in data.charts},
        "metric_keys": data.metric_keys,
        "chosen_metrics": [k for k in request.GET.getlist("metrics") if k in data.metric_keys],
        "over": over,
        "options": options,
        "parallel": [c.name for c in parallel],
        "parallel_figure": charts.parallel_chart([_axis(c, data) for c in parallel])
        if len(parallel) >= 2
        else None,
        "x": x,
        "y": y,
        "scatter_figure": charts.scatter_chart(
            _axis(x, data), _axis(y, data), labels, [colours[r.pk] for r in data.runs]
        )
        if x and y
        else None,
        "packages": differing_packages({run.pk: run.packages for run in data.runs}),
        "can_edit": can_log(signed_in(request), experiment.team),
    }
