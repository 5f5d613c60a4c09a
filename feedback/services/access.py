"""Who is calling the feedback API, and what they may do to which model.

A caller is an API key (scoped, one model or a team's models) or a signed-in person. Keys
do only what their scopes say; people log predictions and outcomes for their team's models
(data scientists and engineers), and anyone signed in may give feedback or read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from feedback.models import ApiKey, Scope
from portal.people import Person
from registry.models import RegisteredModel
from registry.permissions import can_edit_model


@dataclass(frozen=True)
class Caller:
    key: ApiKey | None = None
    person: Person | None = None

    @property
    def single_model(self) -> RegisteredModel | None:
        """The one model a single-model key is for; a record may then leave its model out."""
        return self.key.model if self.key is not None else None

    def may(self, scope: str, model: RegisteredModel) -> bool:
        if self.key is not None:
            return self.key.is_active and self.key.allows(scope) and self.key.covers(model)
        if self.person is None or not self.person.is_authenticated:
            return False
        if scope == Scope.PREDICTIONS:
            return can_edit_model(self.person, model)
        return True  # feedback and reads: anyone signed in

    def readable(self, models: QuerySet[RegisteredModel]) -> QuerySet[RegisteredModel]:
        """Those of ``models`` the caller may read predictions and feedback of: a key's own
        (with the read scope), every model for a signed-in person."""
        key = self.key
        if key is None:
            return models
        if not key.allows(Scope.READ):
            raise PermissionDenied("This key has no read scope.")
        return models.filter(pk=key.model_id) if key.model_id else models.filter(team=key.team_id)

    def require(self, scope: str, models: Iterable[RegisteredModel]) -> None:
        """PermissionDenied naming every model the caller may not ``scope``."""
        refused = sorted({m.name for m in models if not self.may(scope, m)})
        if refused:
            who = "This key" if self.key is not None else "You"
            raise PermissionDenied(f"{who} may not {_VERBS[scope]} for {', '.join(refused)}.")


_VERBS: dict[str, str] = {
    Scope.PREDICTIONS: "log predictions or outcomes",
    Scope.FEEDBACK: "send feedback",
    Scope.READ: "read predictions and feedback",
    Scope.DEPLOYMENTS: "report deployments",
}
