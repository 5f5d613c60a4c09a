"""Runbooks: a model's current runbook and its revisions."""

from __future__ import annotations

from django.db.models import QuerySet

from registry.models import RegisteredModel
from registry.releases.models import Runbook


def current_runbook(model: RegisteredModel) -> Runbook | None:
    return Runbook.objects.filter(model=model).select_related("author").first()


def runbook_revisions(model: RegisteredModel) -> QuerySet[Runbook]:
    return Runbook.objects.filter(model=model).select_related("author").order_by("-revision")
