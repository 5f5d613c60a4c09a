"""Requesting a release, and cancelling one. The request snapshots its checklist; a
failing required check that no override covers refuses the request, listing what to fix."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from portal.markdown import MarkdownRefused, render
from portal.people import Person
from portal.services.audit import record_event
from registry.choices import VersionStatus
from registry.models import ModelVersion
from registry.releases.choices import OPEN_STATES, Check, State, Strategy
from registry.releases.models import ChecklistOverride, Environment, ReleaseRequest, Runbook
from registry.releases.permissions import can_cancel, can_request, is_approver
from registry.releases.services import events
from registry.releases.services.checklist import Checklist, checklist
from registry.releases.services.deployments import current_deployment
from registry.releases.services.states import locked, move

MAX_TEXT_CHARS = 20_000
MAX_STEPS = 10


def clean_steps(strategy: str, steps: list[int] | None) -> list[int]:
    """A canary's traffic shares: whole percents, rising, ending at 100."""
    if strategy != Strategy.CANARY:
        return []
    shares = list(steps or [])
    if not shares or len(shares) > MAX_STEPS:
        raise ValidationError(
            {"canary_steps": f"List 2 to {MAX_STEPS} traffic shares in percent, e.g. 5, 25, 100."}
        )
    if any(not isinstance(s, int) or isinstance(s, bool) or not 0 < s <= 100 for s in shares):
        raise ValidationError({"canary_steps": "Each share is a whole percent from 1 to 100."})
    if shares != sorted(set(shares)) or shares[-1] != 100 or len(shares) < 2:
        raise ValidationError(
            {"canary_steps": "Shares must rise step by step and end at 100, e.g. 5, 25, 100."}
        )
    return shares


@transaction.atomic
def request_release(
    *,
    actor: Person,
    version: ModelVersion,
    environment: Environment,
    strategy: str = Strategy.FULL,
    canary_steps: list[int] | None = None,
    serving_mode: str = "realtime",
    justification: str,
    rollback_plan: str,
    acknowledge_breaking: bool = False,
) -> ReleaseRequest:
    if not can_request(actor, version):
        raise PermissionDenied(
            f"Only Data scientists and Engineers of {version.model.team} may request its releases."
        )
    errors: dict[str, str] = {}
    if strategy not in Strategy.values:
        errors["strategy"] = "Choose full, canary or shadow."
    if serving_mode not in ("realtime", "batch"):
        errors["serving_mode"] = "Choose realtime or batch."
    if not justification.strip():
        errors["justification"] = "Say why this version should run there."
    if not rollback_plan.strip():
        errors["rollback_plan"] = "Say how to go back if it misbehaves."
    for field, text in (("justification", justification), ("rollback_plan", rollback_plan)):
        if len(text) > MAX_TEXT_CHARS:
            errors[field] = f"Keep it under {MAX_TEXT_CHARS:,} characters."
    if errors:
        raise ValidationError(errors)
    steps = clean_steps(strategy, canary_steps)
    locked_version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if locked_version.status in (VersionStatus.DRAFT,):
        raise ValidationError({"version": f"{version} is a draft: mark it a candidate first."})
    running = current_deployment(environment, version.model)
    if running is not None and running.version_id == version.pk:
        raise ValidationError({"version": f"{version} already runs in {environment}."})
    if ReleaseRequest.objects.filter(
        version=version, environment=environment, state__in=OPEN_STATES
    ).exists():
        raise ValidationError({"version": f"{version} has an open request for {environment}."})
    checks = checklist(version, environment, acknowledged=acknowledge_breaking)
    _refuse_blocked(checks)
    try:
        html = render(justification)
    except MarkdownRefused as exc:
        raise ValidationError({"justification": f"The text {exc}."}) from None
    release = ReleaseRequest.objects.create(
        version=version,
        environment=environment,
        requested_by=actor,
        strategy=strategy,
        canary_steps=steps,
        serving_mode=serving_mode,
        justification=justification,
        justification_html=html,
        rollback_plan=rollback_plan,
        checklist=checks.as_dict(),
        breaking_acknowledged=bool(checks.breaking_changes) and acknowledge_breaking,
        runbook=Runbook.objects.filter(model=version.model_id).first(),
        replaces=checks.replaces,
    )
    record_event(
        actor=actor,
        verb="release.requested",
        target=release,
        after={
            "version": str(version),
            "environment": environment.name,
            "strategy": strategy,
            "canary_steps": steps,
            "breaking_acknowledged": release.breaking_acknowledged,
        },
    )
    events.announce(release, "release.requested", actor=actor)
    return release


def _refuse_blocked(checks: Checklist) -> None:
    blocking = checks.blocking
    if blocking:
        raise ValidationError({"checklist": [f"{item.label}: {item.detail}" for item in blocking]})


@transaction.atomic
def cancel_release(*, actor: Person, release: ReleaseRequest, reason: str = "") -> ReleaseRequest:
    if not can_cancel(actor, release):
        raise PermissionDenied("Only the requester or the model's team may cancel the request.")
    row = locked(release)
    row.finished_at = timezone.now()
    move(actor, row, State.CANCELLED, message=reason.strip(), extra=["finished_at"])
    return row


@transaction.atomic
def override_check(
    *, actor: Person, version: ModelVersion, environment: Environment, check: str, reason: str
) -> ChecklistOverride:
    """An approver lets a failing check pass for releases of ``version`` to ``environment``."""
    if not is_approver(actor):
        raise PermissionDenied("Only an Approver may override a check.")
    if check not in Check.values:
        raise ValidationError({"check": f"Unknown check {check!r}."})
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the check may be passed over."})
    override, _ = ChecklistOverride.objects.update_or_create(
        version=version,
        environment=environment,
        check_name=check,
        defaults={"reason": reason, "by": actor},
    )
    record_event(
        actor=actor,
        verb="release.check_overridden",
        target=version,
        after={"environment": environment.name, "check": check, "reason": reason},
    )
    return override
