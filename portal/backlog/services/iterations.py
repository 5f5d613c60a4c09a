"""Iterations: create them, keep their review and retrospective notes (with history)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from portal.backlog.models import Iteration
from portal.backlog.permissions import WORKER_ROLES, is_member, require_edit_iteration
from portal.concurrency import check_revision
from portal.markdown import render_fields
from portal.models import Team
from portal.people import Person
from portal.roles import has_role
from portal.services.audit import record_event


@transaction.atomic
def create_iteration(
    *, actor: Person, team: Team, name: str, start_date: date, end_date: date
) -> Iteration:
    if not (has_role(actor, *WORKER_ROLES) and is_member(actor, team)):
        raise PermissionDenied(f"Only members of {team} may plan its iterations.")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "An iteration needs a name."})
    if end_date < start_date:
        raise ValidationError({"end_date": "An iteration ends on or after the day it starts."})
    try:
        with transaction.atomic():
            iteration = Iteration.objects.create(
                team=team, name=name, start_date=start_date, end_date=end_date
            )
    except IntegrityError:
        raise ValidationError({"name": f"{team} already has an iteration named {name}."}) from None
    record_event(
        actor=actor,
        verb="iteration.created",
        target=iteration,
        after={"name": name, "start": start_date.isoformat(), "end": end_date.isoformat()},
    )
    return iteration


@transaction.atomic
def update_iteration_notes(
    *,
    actor: Person,
    iteration: Iteration,
    review_notes: str,
    retro_notes: str,
    expected_revision: int | None = None,
) -> Iteration:
    """Replace the review and retrospective notes; the audit log keeps every earlier text."""
    require_edit_iteration(actor, iteration)
    locked = Iteration.objects.select_for_update().get(pk=iteration.pk)
    check_revision(locked, expected_revision)
    html = render_fields({"review_notes": review_notes, "retro_notes": retro_notes})
    before = {"review_notes": locked.review_notes, "retro_notes": locked.retro_notes}
    locked.review_notes, locked.retro_notes = review_notes, retro_notes
    locked.review_notes_html, locked.retro_notes_html = html["review_notes"], html["retro_notes"]
    locked.revision += 1
    locked.save(
        update_fields=[
            "review_notes",
            "retro_notes",
            "review_notes_html",
            "retro_notes_html",
            "revision",
        ]
    )
    record_event(
        actor=actor,
        verb="iteration.notes_updated",
        target=locked,
        before=before,
        after={"review_notes": review_notes, "retro_notes": retro_notes},
    )
    return locked
