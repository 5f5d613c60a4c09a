"""The release page: one release with its approvals, steps, timeline, runbook, checklist,
contract changes, the canary analysis and the reader's controls; and the links of audit
events that name a release (``portal.activity.links_for``)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch, QuerySet
from django.urls import reverse

from portal.activity import Target
from portal.models import AuditEvent
from portal.people import Person
from portal.services.audit import events_for
from registry.models import RegisteredModel
from registry.releases.choices import OPEN_STATES, State, Strategy
from registry.releases.models import Approval, CanaryStep, ReleaseRequest, Runbook
from registry.releases.permissions import can_cancel, can_decide, can_deploy, can_roll_back
from registry.releases.services.approvals import Progress, progress
from registry.releases.services.checklist import Checklist, checklist
from registry.services.contracts import ContractChange
from registry.services.versions import contract_changes

TIMELINE_LIMIT = 200  # a release's events: a few transitions and one per decision
# The canary analysis is another module's; the release page shows it once it exists.
CANARY_MODULE = "registry.releases.services.canary"


@dataclass(frozen=True)
class Controls:
    """Which buttons the reader may press on this release now."""

    decide: bool = False
    cancel: bool = False
    deploy: bool = False
    promote: bool = False
    roll_back: bool = False
    already_decided: Approval | None = None


@dataclass(frozen=True)
class ReleasePage:
    release: ReleaseRequest
    approvals: list[Approval]
    progress: Progress
    steps: list[CanaryStep]
    events: list[AuditEvent]
    runbook: Runbook | None
    live: Checklist | None  # the checklist now, while the request is open
    contract: list[ContractChange]
    controls: Controls
    comparisons: list[Any] | None = None  # the canary analysis, once its module exists
    comparison_error: str = ""
    snapshot: list[dict[str, Any]] = field(default_factory=list)

    @property
    def model(self) -> RegisteredModel:
        return self.release.version.model

    @property
    def breaking(self) -> list[ContractChange]:
        return [change for change in self.contract if change.is_breaking]


def release_queryset() -> QuerySet[ReleaseRequest]:
    people = ("username", "first_name", "last_name", "email")
    return ReleaseRequest.objects.select_related(
        "version__model__team", "environment", "requested_by", "replaces", "runbook__author"
    ).prefetch_related(
        Prefetch(
            "approvals",
            queryset=Approval.objects.select_related("approver").only(
                *("request_id", "decision", "comment", "roles", "created_at"),
                *("dismissed_at", "dismissed_reason"),
                *(f"approver__{name}" for name in people),
            ),
        ),
        Prefetch("steps", queryset=CanaryStep.objects.select_related("by")),
    )


def release_page(release: ReleaseRequest, person: Person) -> ReleasePage:
    """Everything the release page shows of ``release`` (from ``release_queryset``)."""
    approvals = list(release.approvals.all())
    events = list(events_for(release)[:TIMELINE_LIMIT])
    runbook = release.runbook or Runbook.objects.filter(model=release.version.model_id).first()
    live = None
    if release.state in OPEN_STATES:
        live = checklist(
            release.version, release.environment, acknowledged=release.breaking_acknowledged
        )
    comparisons, comparison_error = canary_comparisons(release)
    return ReleasePage(
        release=release,
        approvals=approvals,
        progress=progress(release),
        steps=list(release.steps.all()),
        events=events,
        runbook=runbook,
        live=live,
        contract=contract_changes(release.replaces, release.version),
        controls=controls_for(person, release, approvals),
        comparisons=comparisons,
        comparison_error=comparison_error,
        snapshot=list(release.checklist.get("items", [])),
    )


def controls_for(person: Person, release: ReleaseRequest, approvals: list[Approval]) -> Controls:
    """The buttons to show; the services decide again when one is pressed."""
    state = release.state
    mine = next(
        (a for a in approvals if a.approver_id == person.pk and a.dismissed_at is None), None
    )
    deployer = can_deploy(person, release)
    return Controls(
        decide=state == State.PENDING and mine is None and can_decide(person, release),
        cancel=state in (State.PENDING, State.APPROVED) and can_cancel(person, release),
        deploy=state in (State.APPROVED, State.DEPLOYING) and deployer,
        promote=release.is_canary_running and deployer,
        roll_back=state == State.DEPLOYED and can_roll_back(person, release),
        already_decided=mine,
    )


def canary_comparisons(release: ReleaseRequest) -> tuple[list[Any] | None, str]:
    """The canary analysis of a running canary or shadow release: (comparisons, error).
    None until ``registry.releases.services.canary`` exists."""
    if release.state != State.DEPLOYED or release.strategy == Strategy.FULL:
        return None, ""
    canary = _canary_module()
    if canary is None or not hasattr(canary, "compare"):
        return None, ""
    try:
        return list(canary.compare(release)), ""
    except (ValueError, LookupError) as exc:
        return [], str(exc)


def _canary_module() -> Any:
    """The canary analysis module, or None while it does not exist."""
    loaded = sys.modules.get(CANARY_MODULE)
    if loaded is not None:
        return loaded
    try:
        found = importlib.util.find_spec(CANARY_MODULE)
    except (ImportError, ValueError):
        return None
    return importlib.import_module(CANARY_MODULE) if found is not None else None


def activity_links(targets: Iterable[Target]) -> dict[Target, str]:
    """The page of each release that audit events name (``portal.activity.links_for``)."""
    kind = ContentType.objects.get_for_model(ReleaseRequest).pk
    ids = {int(pk) for type_id, pk in targets if type_id == kind and pk.isdigit()}
    if not ids:
        return {}
    found = ReleaseRequest.objects.filter(pk__in=ids).values_list("pk", flat=True)
    return {(kind, str(pk)): reverse("releases:detail", args=[pk]) for pk in found}
