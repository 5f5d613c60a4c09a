"""The experiments list, one experiment's runs, one run, and a metric's direction."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from portal.people import signed_in
from portal.web import HtmxHttpRequest
from registry.experiments import charts
from registry.experiments.models import Direction, RunStatus
from registry.experiments.page_queries import (
    PLAIN_SORTS,
    Column,
    RunFilters,
    experiment_list,
    experiment_page,
    get_experiment,
    parse_columns,
    run_page,
)
from registry.experiments.permissions import can_log
from registry.experiments.services.experiments import set_direction


@require_GET
def experiment_index(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "experiments/experiment_list.html", {"experiments": experiment_list()})


def _header(name: str, label: str, sort: str) -> dict[str, str]:
    """A sortable column's label, the sort its link asks for and its aria-sort."""
    if sort == name:
        return {"name": name, "label": label, "next": f"-{name}", "aria": "ascending"}
    if sort == f"-{name}":
        return {"name": name, "label": label, "next": name, "aria": "descending"}
    return {"name": name, "label": label, "next": name, "aria": "none"}


def _headers(columns: list[Column], sort: str) -> dict[str, Any]:
    plain = {name: _header(name, name.capitalize(), sort) for name in PLAIN_SORTS}
    chosen = [_header(c.name, c.key, sort) | {"kind": c.kind} for c in columns]
    return {"plain": plain, "chosen": chosen}


@require_GET
def experiment_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    experiment = get_experiment(pk)
    filters = RunFilters(
        status=request.GET.get("status", ""),
        tag=request.GET.get("tag", ""),
        param=request.GET.get("param", ""),
    )
    read = experiment_page(
        experiment,
        columns=parse_columns(request.GET.getlist("columns")),
        filters=filters,
        sort=request.GET.get("sort", ""),
        page=request.GET.get("page"),
    )
    context = {
        "experiment": experiment,
        "read": read,
        "filters": filters,
        "statuses": RunStatus.choices,
        "headers": _headers(read.columns, read.sort),
        "chosen": {c.name for c in read.columns},
        "columns_value": ",".join(c.name for c in read.columns),
        "filtered": bool(filters.status or filters.tag or filters.param),
    }
    return render(request, "experiments/experiment_detail.html", context)


@require_GET
def run_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    read = run_page(pk)
    over = charts.TIME if request.GET.get("over") == charts.TIME else charts.STEP
    colour = charts.run_colour(0)
    figures = [
        {
            "id": f"metric-chart-{index}",
            "chart": chart,
            "figure": charts.metric_chart(
                chart.key,
                [
                    charts.Series.of(str(read.run), colour, line, over)
                    for line in chart.series.values()
                ],
                over,
            ),
        }
        for index, chart in enumerate(read.charts)
    ]
    experiment = read.run.experiment
    context = {
        "read": read,
        "run": read.run,
        "experiment": experiment,
        "figures": figures,
        "over": over,
        # A finished run of a team whose people may register versions can become one.
        "can_promote": read.run.status == RunStatus.FINISHED
        and can_log(signed_in(request), experiment.team),
    }
    return render(request, "experiments/run_detail.html", context)


@require_POST
def metric_direction(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Flip which way one metric is better, then go back to the page that asked."""
    experiment = get_experiment(pk)
    key, direction = request.POST.get("key", ""), request.POST.get("direction", "")
    try:
        set_direction(actor=signed_in(request), experiment=experiment, key=key, direction=direction)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        better = "lower" if direction == Direction.MIN else "higher"
        messages.success(request, f"{key}: {better} is better now, in every comparison.")
    back = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
    return redirect(back if back and safe else reverse("experiments:detail", args=[pk]))
