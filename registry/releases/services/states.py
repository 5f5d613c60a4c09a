"""Moving a release between states: one row lock, one allowed transition, one audit event."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from portal.metrics.instruments import RELEASE_TRANSITIONS, count_on_commit
from portal.people import Person
from portal.services.audit import record_event
from registry.releases.choices import TRANSITIONS, State
from registry.releases.models import ReleaseRequest
from registry.releases.services import events

# The state a transition announces to people and webhooks as it happens.
ANNOUNCED: dict[str, str] = {
    State.APPROVED: "release.approved",
    State.REJECTED: "release.rejected",
    State.ROLLED_BACK: "release.rolled_back",
    State.FAILED: "release.failed",
}


def locked(release: ReleaseRequest) -> ReleaseRequest:
    """The request row, locked until the transaction ends: two clicks at once queue here,
    and the second sees the first's outcome."""
    return (
        ReleaseRequest.objects.select_for_update(of=("self",))
        .select_related("version__model__team", "environment", "requested_by")
        .get(pk=release.pk)
    )


def move(
    actor: Person | None,
    release: ReleaseRequest,
    state: str,
    *,
    message: str = "",
    extra: list[str] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Move a locked request to ``state`` when its state allows it."""
    if state not in TRANSITIONS.get(release.state, set()):
        raise ValidationError(
            {
                "state": f"{release} is {release.get_state_display().lower()}; "
                f"it cannot become {State(state).label.lower()}."
            }
        )
    before = release.state
    release.state = state
    if message:
        release.status_message = message[:2000]
    release.save(update_fields=["state", "status_message", "updated_at", *(extra or [])])
    record_event(
        actor=actor,
        verb=f"release.{state}",
        target=release,
        before={"state": before},
        after={"state": state, **({"message": message} if message else {}), **(after or {})},
    )
    count_on_commit(RELEASE_TRANSITIONS, state)
    if state in ANNOUNCED:
        events.announce(release, ANNOUNCED[state], actor=actor)
