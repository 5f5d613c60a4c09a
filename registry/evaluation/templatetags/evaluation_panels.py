"""The version page's evaluation panels: input mapping, evaluations and how to start one,
and the latest results in the card's quantitative analyses.

Each panel reads a fixed number of rows however many evaluations a version has: the panel
its mapping, its newest evaluations (with their datasets) and, for people who may evaluate,
the datasets to choose from; the card one query for the latest result per dataset.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.safestring import SafeString

from portal.jobs import JobStatus
from registry.evaluation import charts
from registry.evaluation.models import Evaluation, InputMapping
from registry.evaluation.permissions import can_evaluate
from registry.evaluation.result_tables import (
    SUMMARY_METRICS,
    metric_label,
    number,
    summary,
)
from registry.evaluation.services.mappings import draft_for, problems_of
from registry.evaluation.views.evaluations import has_valid_artifact, start_form
from registry.models import ModelVersion

register = template.Library()

EVALUATIONS_SHOWN = 10
LATEST_SHOWN = 3


def _render(context: template.Context, name: str, values: dict[str, Any]) -> SafeString:
    """Render ``name`` in a context of its own, as an inclusion tag does (the page's
    context processors are not run again)."""
    values.setdefault("csrf_token", context.get("csrf_token"))
    found = context.template.engine.get_template(name) if context.template else None
    if found is None:
        return SafeString("")
    return SafeString(found.render(context.new(values)))


def _user(context: template.Context) -> Any:
    request = context.get("request")
    return context.get("user") or getattr(request, "user", None)


def _evaluation_url(version: ModelVersion, evaluation: Evaluation) -> str:
    # Built from the version in hand: ``get_absolute_url`` would load it once per row.
    return reverse(
        "evaluation:evaluation", args=[version.model.name, version.version, evaluation.pk]
    )


def shown_mapping(version: ModelVersion) -> tuple[InputMapping | None, str]:
    """The mapping an evaluation would use: the saved one, or the draft the first evaluation
    or edit saves (reading the page saves nothing); without one, why there is none."""
    if not has_valid_artifact(version):
        return None, (
            "No valid ONNX artifact: an evaluation of this version reads its predictions "
            "from a dataset column instead."
        )
    artifact = version.artifact
    saved = InputMapping.objects.filter(version=version).first()
    if saved is not None:
        saved.version = version
        # A draft nobody edited is drafted again when the artifact changed under it.
        if not (saved.drafted and problems_of(saved, artifact)):
            return saved, ""
    draft = draft_for(version, artifact)
    return InputMapping(version=version, inputs=draft.inputs, outputs=draft.outputs), ""


@register.simple_tag(takes_context=True)
def evaluation_panel(context: template.Context, version: ModelVersion | None) -> SafeString:
    """The input mapping, the version's newest evaluations and the form to start one."""
    if version is None:
        return SafeString("")
    mapping, missing = shown_mapping(version)
    newest = list(
        Evaluation.objects.filter(version=version)
        .select_related("dataset")
        .order_by("-queued_at", "-pk")[: EVALUATIONS_SHOWN + 1]
    )
    may_evaluate = can_evaluate(_user(context), version)
    rows = [
        {"evaluation": e, "url": _evaluation_url(version, e), "summary": summary(e)}
        for e in newest[:EVALUATIONS_SHOWN]
    ]
    values = {
        "version": version,
        "mapping": mapping,
        "mapping_missing": missing,
        "evaluations": rows,
        "more": len(newest) > EVALUATIONS_SHOWN,
        "can_evaluate": may_evaluate,
        "form": start_form(version) if may_evaluate else None,
    }
    return _render(context, "evaluation/partials/version_panel.html", values)


def latest_succeeded(version: ModelVersion) -> list[Evaluation]:
    """The newest succeeded evaluation on each dataset, newest first, at most a few: one
    query, however many evaluations the version has."""
    succeeded = Evaluation.objects.filter(version=version, status=JobStatus.SUCCEEDED)
    newest_on_dataset = succeeded.filter(dataset_id=OuterRef("dataset_id")).order_by(
        "-finished_at", "-pk"
    )
    return list(
        succeeded.filter(pk=Subquery(newest_on_dataset.values("pk")[:1]))
        .select_related("dataset")
        .order_by("-finished_at", "-pk")[:LATEST_SHOWN]
    )


def _columns(evaluations: list[Evaluation]) -> list[tuple[str, str]]:
    """The summary metrics of the evaluations' tasks that at least one of them has."""
    keys: list[str] = []
    for evaluation in evaluations:
        for key in SUMMARY_METRICS.get(evaluation.task_kind, ()):
            if key not in keys and any(key in (e.metrics or {}) for e in evaluations):
                keys.append(key)
    return [(key, metric_label(key)) for key in keys]


def _importance(evaluations: list[Evaluation]) -> dict[str, Any] | None:
    """The importance chart of the newest evaluation that measured it."""
    found = next((e for e in evaluations if e.importance), None)
    if found is None:
        return None
    return {
        "evaluation": found,
        "metric": found.importance[0].get("metric", ""),
        "figure": charts.importance_chart(found.importance),
        "height": charts.importance_height(found.importance),
    }


@register.simple_tag(takes_context=True)
def latest_evaluations(context: template.Context, version: ModelVersion | None) -> SafeString:
    """A compact metric table of the latest results, and what drives the predictions."""
    if version is None:
        return SafeString("")
    evaluations = latest_succeeded(version)
    columns = _columns(evaluations)
    rows = [
        {
            "evaluation": e,
            "url": _evaluation_url(version, e),
            "values": [number((e.metrics or {}).get(key)) for key, _ in columns],
        }
        for e in evaluations
    ]
    values = {
        "version": version,
        "rows": rows,
        "columns": columns,
        "importance": _importance(evaluations),
        "can_evaluate": can_evaluate(_user(context), version),
    }
    return _render(context, "evaluation/partials/latest_evaluations.html", values)
