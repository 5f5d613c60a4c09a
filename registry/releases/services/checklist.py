"""The checklist a release request is judged by: gates, card completeness, contract changes
against what runs in the environment, open P0/P1 items, drift of what runs there, and the
runbook. Read live on the request form, snapshotted on the request."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from portal.backlog.choices import Priority
from portal.backlog.services.links import open_items_about
from registry.evaluation.verdicts import verdict
from registry.models import ModelCard, ModelVersion
from registry.monitoring.models import DriftReport
from registry.monitoring.queries import light_verdict
from registry.releases.choices import Check
from registry.releases.models import ChecklistOverride, Environment, Runbook
from registry.releases.services.deployments import current_deployment
from registry.services.versions import contract_changes


@dataclass(frozen=True)
class Item:
    check: str
    ok: bool
    required: bool  # a failing required check blocks the request unless overridden
    detail: str
    overridden: str = ""  # the override's reason, when one covers the failure

    @property
    def label(self) -> str:
        return Check(self.check).label

    @property
    def blocks(self) -> bool:
        return self.required and not self.ok and not self.overridden


@dataclass(frozen=True)
class Checklist:
    items: list[Item]
    breaking_changes: list[str] = field(default_factory=list)
    replaces: ModelVersion | None = None

    @property
    def blocking(self) -> list[Item]:
        return [item for item in self.items if item.blocks]

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": [asdict(item) for item in self.items],
            "breaking_changes": self.breaking_changes,
            "replaces": str(self.replaces) if self.replaces else None,
        }


def checklist(
    version: ModelVersion, environment: Environment, *, acknowledged: bool = False
) -> Checklist:
    """Each check of ``version`` going to ``environment``; ``acknowledged``: the requester
    has acknowledged the breaking contract changes."""
    running = current_deployment(environment, version.model)
    replaces = running.version if running and running.version_id != version.pk else None
    overrides = dict(
        ChecklistOverride.objects.filter(version=version, environment=environment).values_list(
            "check_name", "reason"
        )
    )
    changes = contract_changes(replaces, version) if replaces else []
    breaking = [f"{c.schema} {c.path}: {c.change}" for c in changes if c.is_breaking]
    items = [
        _gates(version, environment),
        _completeness(version, environment),
        _contract(breaking, replaces, acknowledged),
        _open_items(version),
        _drift(replaces),
        _runbook(version, environment),
    ]
    items = [
        Item(**{**asdict(item), "overridden": overrides.get(item.check, "")})
        if not item.ok and item.check in overrides
        else item
        for item in items
    ]
    return Checklist(items, breaking, replaces)


def _gates(version: ModelVersion, environment: Environment) -> Item:
    judged = verdict(version)
    ok = not judged.blocks_release
    detail = judged.label
    if judged.failing:
        detail += ": " + "; ".join(f"{r.rule} ({r.reason})" for r in judged.failing)
    return Item(Check.GATES, ok, environment.gates_required, detail)


def _completeness(version: ModelVersion, environment: Environment) -> Item:
    card = ModelCard.objects.filter(version=version).first()
    percent = card.completeness if card else 0
    needed = environment.min_completeness
    detail = f"{percent}% of the required sections written; {environment} needs {needed}%"
    return Item(Check.COMPLETENESS, percent >= needed, needed > 0, detail)


def _contract(breaking: list[str], replaces: ModelVersion | None, acknowledged: bool) -> Item:
    if replaces is None:
        return Item(Check.CONTRACT, True, True, "Nothing runs there yet: no contract to break.")
    if not breaking:
        return Item(Check.CONTRACT, True, True, f"No breaking change against {replaces}.")
    detail = f"{len(breaking)} breaking change(s) against {replaces}: " + "; ".join(breaking)
    if acknowledged:
        return Item(Check.CONTRACT, True, True, detail + " (acknowledged by the requester)")
    return Item(Check.CONTRACT, False, True, detail + ". Acknowledge them to go on.")


def _open_items(version: ModelVersion) -> Item:
    urgent = list(open_items_about(version).filter(priority__in=[Priority.P0, Priority.P1])[:10])
    if not urgent:
        return Item(Check.OPEN_ITEMS, True, True, "No open P0 or P1 item about this version.")
    names = "; ".join(f"#{item.pk} {item.title} ({item.priority})" for item in urgent)
    return Item(Check.OPEN_ITEMS, False, True, f"Open: {names}")


def _drift(replaces: ModelVersion | None) -> Item:
    # Information, not a block: drift of the running version argues for replacing it.
    if replaces is None:
        return Item(Check.DRIFT, True, False, "Nothing runs there yet.")
    report = DriftReport.objects.filter(version=replaces).order_by("-window_end").first()
    seen = light_verdict(report)
    drifting = seen.state in ("drift", "critical")
    return Item(Check.DRIFT, not drifting, False, f"{replaces}: {seen.label}")


def _runbook(version: ModelVersion, environment: Environment) -> Item:
    runbook = Runbook.objects.filter(model=version.model_id).first()
    if runbook is None:
        return Item(Check.RUNBOOK, False, environment.runbook_required, "No runbook yet.")
    return Item(Check.RUNBOOK, True, environment.runbook_required, f"Revision {runbook.revision}")
