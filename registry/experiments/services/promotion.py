"""Promote a finished run to a model version: the version, its card and where it came from.

The version is registered through ``create_version`` (which decides who may register one),
the run is linked to it by a ``Promotion`` row, and the run's final metrics and params are
written into the card through ``update_card``, all in one transaction: a refusal anywhere
leaves nothing behind. Lock order: the run, then the model (``create_version``), then the card.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from portal.people import Person
from portal.services.audit import record_event
from registry.experiments.models import MetricSummary, Param, Promotion, Run, RunStatus
from registry.models import ModelVersion, RegisteredModel
from registry.services.model_cards import MAX_SECTION_CHARS, update_card
from registry.services.versions import check_new_version, create_version

MAX_CELL_CHARS = 200  # a param value longer than this is cut in the card (the run keeps it)
# Room left in a section for the lines around its table and the "… and N more" line.
TABLE_BUDGET = MAX_SECTION_CHARS - 2_000
# What starts inline markup in a table cell (block syntax such as "#" or "-" does not apply there).
_MARKDOWN_SPECIALS = set("\\`*_[]|")


@dataclass(frozen=True)
class CardTables:
    """What a promotion writes into the new version's card, section by section."""

    metrics: str
    quantitative_analyses: str

    def sections(self) -> dict[str, str]:
        return {"metrics": self.metrics, "quantitative_analyses": self.quantitative_analyses}


@transaction.atomic
def promote_run(
    *,
    actor: Person,
    run: Run,
    version: str,
    model: RegisteredModel | None = None,
    notes: str = "",
) -> ModelVersion:
    """Register ``version`` of the experiment's model (or ``model``) from a finished run."""
    locked = Run.objects.select_for_update().select_related("experiment").get(pk=run.pk)
    target = _target(locked, model)
    _refuse_unfinished(locked)
    new = create_version(actor=actor, model=target, version=version, notes=_notes(locked, notes))
    return link_run(actor=actor, run=locked, version=new)


@transaction.atomic
def link_run(*, actor: Person, run: Run, version: ModelVersion) -> ModelVersion:
    """Record that ``version`` came from ``run`` and write the run's metrics and params into
    its card: a promotion, or a client registering a version from the run it logged."""
    Promotion.objects.create(run=run, version=version, promoted_by=actor)
    summaries = list(MetricSummary.objects.filter(run=run).order_by("key"))
    params = list(Param.objects.filter(run=run).order_by("key").values_list("key", "value"))
    tables = card_tables(run, summaries, params)
    update_card(actor=actor, card=version.card, sections=tables.sections())
    record_event(
        actor=actor,
        verb="run.promoted",
        target=version,
        after={
            "run": run.pk,
            "params": len(params),
            "metrics": {s.key: s.last for s in summaries},
        },
    )
    return version


def check_promotion(*, run: Run, version: str | None, model: RegisteredModel | None) -> None:
    """Raise every refusal ``promote_run`` would give, at once; writes and locks nothing.

    Permission is not asked here: the form offers only models the person may change, and
    ``promote_run`` checks again. ``version`` None skips the version (its box was refused).
    """
    errors: dict[str, list[str]] = {}
    for check in (_refuse_unfinished, lambda r: _target(r, model)):
        try:
            check(run)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, []).extend(messages)
    target = model or run.experiment.model
    if target is not None and version is not None:
        try:
            check_new_version(model=target, version=version)
        except ValidationError as exc:
            errors.setdefault("version", []).extend(exc.message_dict.get("version", []))
    if errors:
        raise ValidationError(errors)


def preview_tables(run: Run) -> CardTables:
    """The card sections a promotion of ``run`` would write, for the form to show first."""
    summaries = list(MetricSummary.objects.filter(run=run).order_by("key"))
    params = list(Param.objects.filter(run=run).order_by("key").values_list("key", "value"))
    return card_tables(run, summaries, params)


def card_tables(
    run: Run, summaries: list[MetricSummary], params: list[tuple[str, str]]
) -> CardTables:
    """The Markdown of the run's final metrics and of its params. Pure."""
    source = f"run {_cell(_run_label(run))} of experiment {_cell(run.experiment.name)}"
    metric_rows = [
        (
            _cell(s.key),
            _number(s.last),
            str(s.last_step),
            _number(s.min),
            _number(s.max),
            "lower" if run.experiment.direction(s.key) == "min" else "higher",
        )
        for s in summaries
    ]
    param_rows = [(_cell(key), _cell(value)) for key, value in params]
    metrics = f"Final values logged by {source}; min and max over every step.\n\n"
    metrics += _table(("Metric", "Final", "Step", "Min", "Max", "Better"), metric_rows, "metrics")
    analyses = f"### Training parameters\n\nThe params of {source}.\n\n"
    analyses += _table(("Param", "Value"), param_rows, "params")
    return CardTables(metrics=metrics, quantitative_analyses=analyses)


def _target(run: Run, model: RegisteredModel | None) -> RegisteredModel:
    target = model or run.experiment.model
    if target is None:
        raise ValidationError(
            {"model": f"Experiment {run.experiment.name} has no model: choose the model."}
        )
    return target


def _refuse_unfinished(run: Run) -> None:
    if run.status != RunStatus.FINISHED:
        raise ValidationError(
            {"run": f"Only a finished run can be promoted; {_run_label(run)} is {run.status}."}
        )


def _notes(run: Run, notes: str) -> str:
    line = f"Promoted from {_cell(_run_label(run))} of experiment {_cell(run.experiment.name)}."
    if run.git_commit:
        line += f" Commit `{run.git_commit}`."
    return f"{notes.strip()}\n\n{line}" if notes.strip() else line


def _run_label(run: Run) -> str:
    return f"{run.name} (#{run.pk})" if run.name else f"run #{run.pk}"


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]], noun: str) -> str:
    if not rows:
        return f"The run logged no {noun}."
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    size = sum(len(line) + 1 for line in lines)
    for shown, row in enumerate(rows):
        line = "| " + " | ".join(row) + " |"
        if size + len(line) + 1 > TABLE_BUDGET:
            # A section holds at most MAX_SECTION_CHARS: say what was left out.
            return "\n".join(lines) + f"\n\n… and {len(rows) - shown} more {noun} (see the run)."
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


def _cell(text: str) -> str:
    """Text shown as itself in a table cell: one line, HTML and Markdown escaped."""
    text = " ".join(str(text).split())
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    return "".join(f"\\{c}" if c in _MARKDOWN_SPECIALS else c for c in text)


def _number(value: float) -> str:
    return f"{value:.6g}"
