"""Approving and rejecting release requests, and dismissing approvals the version outgrew.

The rules: the requester never decides their own request; a person counts once whatever
roles they hold; the environment's required roles are met by distinct people; any rejection
rejects. Decisions lock the request row, so two approvers clicking at once make exactly one
transition to approved.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.people import Person
from portal.roles import roles_of
from portal.services.audit import record_event
from registry.models import ModelVersion
from registry.releases.choices import Decision, State
from registry.releases.models import Approval, ReleaseRequest
from registry.releases.permissions import can_decide
from registry.releases.services.states import locked, move

MAX_COMMENT_CHARS = 5_000


@dataclass(frozen=True)
class Progress:
    """How far a request is from approved."""

    approvers: list[Approval]  # live approvals, in order
    needed: int
    missing_roles: list[str]

    @property
    def count(self) -> int:
        return len(self.approvers)

    @property
    def met(self) -> bool:
        return self.count >= self.needed and not self.missing_roles


def progress(release: ReleaseRequest) -> Progress:
    approvals = [
        a
        for a in release.approvals.all()
        if a.dismissed_at is None and a.decision == Decision.APPROVE
    ]
    environment = release.environment
    missing = unmet_roles(list(environment.required_roles), [set(a.roles) for a in approvals])
    return Progress(
        approvals, max(environment.approvals_needed, len(environment.required_roles)), missing
    )


def unmet_roles(required: list[str], people: list[set[str]]) -> list[str]:
    """The required roles no assignment of distinct people covers (the smallest such set
    found). Requirements are a handful of roles, so trying each order is cheap."""
    if not required:
        return []
    best = list(required)
    # Each role gets a different person, or nobody (None, repeated so any number may).
    seats = [*range(len(people)), *([None] * len(required))]
    for order in set(permutations(seats, len(required))):
        missing = [
            role
            for role, index in zip(required, order, strict=True)
            if index is None or role not in people[index]
        ]
        if len(missing) < len(best):
            best = missing
        if not best:
            break
    return best


@transaction.atomic
def decide(*, actor: Person, release: ReleaseRequest, decision: str, comment: str = "") -> Approval:
    if actor.pk == release.requested_by_id:
        raise PermissionDenied("You requested this release: someone else must decide it.")
    if not can_decide(actor, release):
        raise PermissionDenied("Only an Approver may approve or reject a release.")
    if decision not in Decision.values:
        raise ValidationError({"decision": "Choose approve or reject."})
    comment = comment.strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise ValidationError(
            {"comment": f"Keep the comment under {MAX_COMMENT_CHARS} characters."}
        )
    if decision == Decision.REJECT and not comment:
        raise ValidationError({"comment": "Say why you reject it, so the requester can fix it."})
    row = locked(release)
    if row.state != State.PENDING:
        raise ValidationError(
            {"state": f"{row} is {row.get_state_display().lower()}: it takes no more decisions."}
        )
    try:
        with transaction.atomic():
            approval = Approval.objects.create(
                request=row,
                approver=actor,
                decision=decision,
                comment=comment,
                roles=sorted(roles_of(actor)),
            )
    except IntegrityError:
        raise ValidationError({"decision": "You have already decided on this request."}) from None
    record_event(
        actor=actor,
        verb=f"release.{decision}",
        target=row,
        after={"decision": decision, "comment": comment, "roles": approval.roles},
    )
    if decision == Decision.REJECT:
        row.decided_at = timezone.now()
        move(actor, row, State.REJECTED, message=comment, extra=["decided_at"])
    elif progress(row).met:
        row.decided_at = timezone.now()
        move(actor, row, State.APPROVED, extra=["decided_at"])
    release.state = row.state
    return approval


@transaction.atomic
def dismiss_stale(*, actor: Person | None, version: ModelVersion, change: str) -> int:
    """A new artifact, contract or card on ``version`` dismisses the approvals given on its
    open requests (they approved something else); an approved request waits again."""
    dismissed = 0
    for release in ReleaseRequest.objects.filter(
        version=version, state__in=[State.PENDING, State.APPROVED]
    ):
        row = locked(release)
        live = list(row.approvals.filter(dismissed_at__isnull=True, decision=Decision.APPROVE))
        if not live:
            continue
        now = timezone.now()
        for approval in live:
            approval.dismissed_at, approval.dismissed_reason = now, f"the {change} changed"
            approval.save(update_fields=["dismissed_at", "dismissed_reason"])
        dismissed += len(live)
        record_event(
            actor=actor,
            verb="release.approvals_dismissed",
            target=row,
            after={"change": change, "approvers": [a.approver.get_username() for a in live]},
        )
        if row.state == State.APPROVED:
            move(actor, row, State.PENDING, message=f"Approvals dismissed: the {change} changed.")
    return dismissed
