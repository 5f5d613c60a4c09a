"""A model's operations runbook: each save is a new revision, the newest is the runbook."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from portal.markdown import MarkdownRefused, render
from portal.people import Person
from portal.services.audit import record_event
from registry.models import RegisteredModel
from registry.permissions import require_edit
from registry.releases.models import Runbook


@transaction.atomic
def save_runbook(*, actor: Person, model: RegisteredModel, body: str) -> Runbook:
    require_edit(actor, model)
    text = body.strip()
    if not text:
        raise ValidationError({"body": "Write how the model is served and how to roll it back."})
    try:
        html = render(text)
    except MarkdownRefused as exc:
        raise ValidationError({"body": f"The text {exc}."}) from None
    RegisteredModel.objects.select_for_update().filter(pk=model.pk).values_list("pk").first()
    latest = Runbook.objects.filter(model=model).aggregate(top=Max("revision"))["top"] or 0
    current = Runbook.objects.filter(model=model, revision=latest).first()
    if current is not None and current.body == text:
        return current
    runbook = Runbook.objects.create(
        model=model, revision=latest + 1, body=text, html=html, author=actor
    )
    record_event(
        actor=actor,
        verb="runbook.saved",
        target=model,
        before={"revision": latest} if latest else None,
        after={"revision": runbook.revision},
    )
    return runbook
