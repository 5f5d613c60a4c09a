"""What a change to a version means for its release requests. The registry calls this;
the releases app holds the rule."""

from __future__ import annotations

from portal.people import Person
from registry.models import ModelVersion


def dismiss_release_approvals(actor: Person | None, version: ModelVersion, change: str) -> None:
    """Approvals of open release requests were given to the version as it was: a new
    ``change`` ("artifact", "contract", "card") dismisses them."""
    from registry.releases.services.approvals import dismiss_stale

    dismiss_stale(actor=actor, version=version, change=change)
