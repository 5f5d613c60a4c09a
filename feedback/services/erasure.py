"""Erasing an end user: their free text, their id and the request metadata logged with
their predictions, across every model.

What they said stays as an anonymous vote (thumbs, rating, corrected label or value), no
longer tied to anyone, so counts and feedback-based accuracy do not change. The audit event
records how much was erased, never who.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from feedback.models import Feedback, FeedbackKind, PredictionLog, Scope
from feedback.services.access import Caller
from portal.roles import has_role
from portal.services.audit import record_event
from portal.text import unstorable_char
from registry.permissions import AUTHOR_ROLES


def may_erase(caller: Caller) -> bool:
    if caller.key is not None:
        return caller.key.is_active and caller.key.allows(Scope.FEEDBACK)
    person = caller.person
    return bool(person and person.is_authenticated and has_role(person, *AUTHOR_ROLES))


@transaction.atomic
def erase_end_user(*, caller: Caller, end_user: str) -> dict[str, int]:
    if not may_erase(caller):
        raise PermissionDenied("Erasing an end user takes a feedback:write key or a team member.")
    if not end_user or len(end_user) > 200 or unstorable_char(end_user):
        raise ValidationError({"end_user": "The pseudonymous id: 1-200 storable characters."})
    theirs = Feedback.objects.filter(end_user=end_user)
    comments = theirs.filter(kind=FeedbackKind.COMMENT).delete()[0]
    anonymised = theirs.update(end_user="", comment="")
    predictions = PredictionLog.objects.filter(end_user=end_user).update(end_user="", metadata={})
    counts = {
        "comments_deleted": comments,
        "feedback_anonymised": anonymised,
        "predictions": predictions,
    }
    actor = caller.person if caller.person is not None and caller.person.is_authenticated else None
    after = {**counts, "by_key": caller.key.prefix if caller.key is not None else None}
    record_event(actor=actor, verb="enduser.erased", after=after)
    return counts
