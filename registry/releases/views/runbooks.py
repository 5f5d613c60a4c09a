"""A model's operations runbook: everyone reads it, the model's authors edit it, and each
save is a revision kept in its history."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from portal.people import signed_in
from portal.web import HtmxHttpRequest, submit
from registry.permissions import can_edit_model
from registry.releases.forms import RunbookForm
from registry.releases.models import Runbook
from registry.releases.queries import current_runbook, runbook_revisions
from registry.releases.services.runbooks import save_runbook
from registry.views.shared import get_model

REVISIONS_PER_PAGE = 10


class _Saved:
    """Where ``submit`` redirects after a save: the runbook page."""

    def __init__(self, runbook: Runbook) -> None:
        self.runbook = runbook

    def get_absolute_url(self) -> str:
        return reverse("releases:runbook", args=[self.runbook.model.name])


@require_http_methods(["GET", "POST"])
def runbook_edit(request: HtmxHttpRequest, name: str) -> HttpResponse:
    model = get_model(name)
    person = signed_in(request)
    current = current_runbook(model)
    allowed = can_edit_model(person, model)
    form = RunbookForm(request.POST or None, initial={"body": current.body if current else ""})
    if not allowed:
        form.disable()
    done = submit(
        request,
        form,
        lambda data: _Saved(save_runbook(actor=person, model=model, body=data["body"])),
        success=lambda saved: f"Runbook of {model.name} saved as revision "
        f"{saved.runbook.revision}.",
    )
    if done.response is not None:
        return done.response
    context = {"model": model, "runbook": current, "form": form, "can_edit": allowed}
    return render(request, "releases/runbook_form.html", context)


@require_GET
def runbook_history(request: HtmxHttpRequest, name: str) -> HttpResponse:
    model = get_model(name)
    page = Paginator(runbook_revisions(model), REVISIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "releases/runbook_revisions.html", {"model": model, "page": page})
