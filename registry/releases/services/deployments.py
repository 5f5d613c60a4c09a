"""What runs where, and the moves that change it: deploy, fail, promote a canary step,
roll back. Every move locks the request row, checks the state it starts from, and writes
its audit event in the same transaction."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from portal.people import Person
from portal.services.audit import record_event
from registry.choices import VersionStatus
from registry.models import ModelVersion, RegisteredModel
from registry.releases.choices import State, Strategy
from registry.releases.models import CanaryStep, Deployment, Environment, ReleaseRequest
from registry.releases.permissions import can_deploy, can_roll_back, is_approver
from registry.releases.services import events
from registry.releases.services.states import locked, move
from registry.services.versions import set_version_status

# How far along a version is; archived counts as nowhere, so a release brings it back.
RANK: dict[str, int] = {
    VersionStatus.CANDIDATE: 0,
    VersionStatus.STAGING: 1,
    VersionStatus.PRODUCTION: 2,
}


def current_deployment(environment: Environment, model: RegisteredModel) -> Deployment | None:
    return (
        Deployment.objects.filter(environment=environment, model=model, ended_at__isnull=True)
        .select_related("version", "release")
        .first()
    )


def deployments_of(model: RegisteredModel) -> QuerySet[Deployment]:
    """The model's current deployment in each environment."""
    return (
        Deployment.objects.filter(model=model, ended_at__isnull=True)
        .select_related("environment", "version", "release")
        .order_by("environment__position")
    )


@transaction.atomic
def start_deploying(
    *, actor: Person | None, release: ReleaseRequest, message: str = ""
) -> ReleaseRequest:
    """The CD pipeline (or a person) says the rollout began."""
    _require_deployer(actor, release)
    row = locked(release)
    if row.state == State.DEPLOYING:
        return row  # a callback sent twice
    move(actor, row, State.DEPLOYING, message=message)
    return row


@transaction.atomic
def mark_deployed(
    *, actor: Person | None, release: ReleaseRequest, message: str = ""
) -> ReleaseRequest:
    """The rollout succeeded: full releases take all traffic, canaries their first step,
    shadow releases none (mirrored traffic only)."""
    _require_deployer(actor, release)
    row = locked(release)
    if row.state == State.DEPLOYED:
        return row
    now = timezone.now()
    row.deployed_at = now
    if row.strategy == Strategy.FULL:
        row.traffic_percent = 100
    elif row.strategy == Strategy.CANARY:
        row.traffic_percent = row.canary_steps[0]
    else:
        row.traffic_percent = 0
    move(actor, row, State.DEPLOYED, message=message, extra=["deployed_at", "traffic_percent"])
    CanaryStep.objects.create(request=row, traffic_percent=row.traffic_percent, by=actor)
    if row.traffic_percent == 100:
        _take_over(actor, row)
    events.announce(row, "release.deployed", actor=actor)
    return row


@transaction.atomic
def mark_failed(*, actor: Person | None, release: ReleaseRequest, message: str) -> ReleaseRequest:
    _require_deployer(actor, release)
    row = locked(release)
    if row.state == State.FAILED:
        return row
    row.finished_at = timezone.now()
    move(
        actor, row, State.FAILED, message=message or "The deployment failed.", extra=["finished_at"]
    )
    return row


@transaction.atomic
def promote(*, actor: Person, release: ReleaseRequest, override_reason: str = "") -> ReleaseRequest:
    """Move a running canary (or shadow) release to its next traffic share. A guarding
    comparison that finds the new version worse blocks the step unless an approver gives
    ``override_reason``."""
    from registry.releases.services.canary import blocking_comparisons

    _require_deployer(actor, release)
    row = locked(release)
    step = row.next_step()
    if step is None:
        raise ValidationError({"state": f"{row} is not a running canary or shadow release."})
    worse = blocking_comparisons(row)
    reason = override_reason.strip()
    if worse and not reason:
        names = ", ".join(c.label for c in worse)
        raise ValidationError(
            {
                "override_reason": f"The canary is worse on a guarding metric ({names}); "
                "an approver may override with a reason."
            }
        )
    if worse and not is_approver(actor):
        raise PermissionDenied("Only an approver may override a guarding metric.")
    before = row.traffic_percent
    row.traffic_percent = step
    row.save(update_fields=["traffic_percent", "updated_at"])
    CanaryStep.objects.create(
        request=row, traffic_percent=step, by=actor, override_reason=reason if worse else ""
    )
    record_event(
        actor=actor,
        verb="release.step_promoted",
        target=row,
        before={"traffic_percent": before},
        after={"traffic_percent": step, **({"override_reason": reason} if worse else {})},
    )
    if step == 100:
        _take_over(actor, row)
        events.announce(row, "release.deployed", actor=actor)
    return row


def _take_over(actor: Person | None, release: ReleaseRequest) -> None:
    """The release's version becomes what runs in the environment; the one it replaced
    steps down (archived when it left production, back to candidate when it left staging)."""
    now = timezone.now()
    environment, version = release.environment, release.version
    previous = (
        Deployment.objects.select_for_update()
        .filter(environment=environment, model=version.model_id, ended_at__isnull=True)
        .first()
    )
    if previous is not None:
        previous.ended_at = now
        previous.save(update_fields=["ended_at"])
        _step_down(actor, previous.version, environment, exclude=version)
    Deployment.objects.create(
        environment=environment,
        model=version.model,
        version=version,
        release=release,
        started_at=now,
    )
    _step_up(actor, version, environment)


@transaction.atomic
def roll_back(*, actor: Person, release: ReleaseRequest, reason: str) -> ReleaseRequest:
    """Return the environment to what ran before ``release``, in one step, saying why."""
    if not can_roll_back(actor, release):
        raise PermissionDenied("Only an approver or an author of the model's team may roll back.")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the release is rolled back."})
    row = locked(release)
    if row.state != State.DEPLOYED:
        raise ValidationError(
            {
                "state": f"Only a deployed release rolls back; {row} is "
                f"{row.get_state_display().lower()}."
            }
        )
    now = timezone.now()
    environment, version = row.environment, row.version
    current = (
        Deployment.objects.select_for_update()
        .filter(environment=environment, model=version.model_id, ended_at__isnull=True)
        .first()
    )
    restored = None
    if current is not None and current.version_id == version.pk:
        # The release took over: end it, and bring back the deployment it replaced.
        current.ended_at = now
        current.save(update_fields=["ended_at"])
        before = (
            Deployment.objects.filter(
                environment=environment, model=version.model_id, ended_at__isnull=False
            )
            .exclude(pk=current.pk)
            .exclude(version=version)
            .select_related("version")
            .first()
        )
        _step_down(actor, version, environment, exclude=None)
        if before is not None:
            restored = Deployment.objects.create(
                environment=environment,
                model=version.model,
                version=before.version,
                release=before.release,
                rollback_of=current,
                reason=reason,
                started_at=now,
            )
            _step_up(actor, before.version, environment)
    # A canary that never took over leaves the running deployment as it is.
    row.traffic_percent = 0
    row.finished_at = now
    move(
        actor,
        row,
        State.ROLLED_BACK,
        message=reason,
        extra=["traffic_percent", "finished_at"],
        after={"reason": reason, "restored": str(restored.version) if restored else None},
    )
    return row


def _step_up(actor: Person | None, version: ModelVersion, environment: Environment) -> None:
    target = environment.version_status
    version.refresh_from_db(fields=["status"])
    # Never down: a production version released to staging as well stays "production".
    if RANK.get(version.status, -1) >= RANK[target]:
        return
    if version.can_move_by_release_to(target):
        set_version_status(actor=actor, version=version, status=target, via_release=True)


def _step_down(
    actor: Person | None,
    version: ModelVersion,
    environment: Environment,
    exclude: ModelVersion | None,
) -> None:
    if exclude is not None and version.pk == exclude.pk:
        return
    version.refresh_from_db(fields=["status"])
    if version.status != environment.version_status:
        return  # it runs elsewhere under another status; leave it
    runs_elsewhere = Deployment.objects.filter(version=version, ended_at__isnull=True).exclude(
        environment=environment
    )
    if runs_elsewhere.exists():
        return
    target = (
        VersionStatus.ARCHIVED
        if version.status == VersionStatus.PRODUCTION
        else VersionStatus.CANDIDATE
    )
    if version.can_move_by_release_to(target):
        set_version_status(actor=actor, version=version, status=target, via_release=True)


def _require_deployer(actor: Person | None, release: ReleaseRequest) -> None:
    # ``None``: the CD pipeline, whose API key was checked by the API view.
    if actor is not None and not can_deploy(actor, release):
        raise PermissionDenied(
            "Only an author of the model's team or an approver may record a deployment."
        )
