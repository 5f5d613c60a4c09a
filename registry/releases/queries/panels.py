"""The model page and the home page: what runs where, and the approvals waiting for me."""

from __future__ import annotations

from dataclasses import dataclass

from portal.people import Person
from registry.models import RegisteredModel
from registry.releases.choices import State
from registry.releases.models import Deployment, ReleaseRequest
from registry.releases.permissions import can_roll_back, is_approver
from registry.releases.queries.release_list import release_list_queryset, waiting_for
from registry.releases.services.deployments import deployments_of

WAITING_SHOWN = 5  # the home page's panel


@dataclass(frozen=True)
class Running:
    """A model's current deployment in one environment, and whether the reader may roll
    its release back from the model page."""

    deployment: Deployment
    can_roll_back: bool

    @property
    def release(self) -> ReleaseRequest | None:
        return self.deployment.release


def what_runs_where(model: RegisteredModel, person: Person) -> list[Running]:
    """One query: the model's current deployments with their environments and releases."""
    rows = []
    for deployment in deployments_of(model):
        deployment.model = model
        deployment.version.model = model
        release = deployment.release
        allowed = False
        if release is not None and release.version_id == deployment.version_id:
            release.version = deployment.version  # known already: no query to ask of it
            allowed = release.state == State.DEPLOYED and can_roll_back(person, release)
        rows.append(Running(deployment, allowed))
    return rows


@dataclass(frozen=True)
class Waiting:
    releases: list[ReleaseRequest]
    count: int
    approver: bool


def waiting_panel(person: Person) -> Waiting:
    """The home page's approvals waiting for me: none and no query for a non-approver;
    one query, two when more wait than the panel lists."""
    if not is_approver(person):
        return Waiting([], 0, False)
    shown = list(
        waiting_for(person, release_list_queryset()).order_by("created_at", "pk")[
            : WAITING_SHOWN + 1
        ]
    )
    count = len(shown)
    if count > WAITING_SHOWN:
        count = waiting_for(person, ReleaseRequest.objects.all()).count()
    return Waiting(shown[:WAITING_SHOWN], count, True)
