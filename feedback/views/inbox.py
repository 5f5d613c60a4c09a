"""The feedback inbox: every model's feedback or one model's, filtered, newest first, each
piece beside the prediction it is about; triage in bulk; and the filtered feedback as CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_POST

from feedback.filtersets import FeedbackFilterSet
from feedback.forms import TriageForm
from feedback.inbox_queries import CSV_MAX_ROWS, PAGE_SIZE, csv_rows, inbox_page
from feedback.models import Feedback
from feedback.services.feedback import mark_reviewed
from feedback.services.triage import file_item
from portal.backlog.permissions import WORKER_ROLES
from portal.people import signed_in
from portal.roles import has_role
from portal.web import HtmxHttpRequest
from registry.models import ModelVersion, RegisteredModel
from registry.permissions import can_edit_model


def _filterset(request: HtmxHttpRequest) -> FeedbackFilterSet:
    return FeedbackFilterSet(request.GET, queryset=Feedback.objects.all(), request=request)


@require_GET
def inbox(request: HtmxHttpRequest) -> HttpResponse:
    person = signed_in(request)
    filterset = _filterset(request)
    page = inbox_page(
        filterset.qs, after=request.GET.get("after", ""), before=request.GET.get("before", "")
    )
    model = filterset.chosen_model
    versions = (
        list(ModelVersion.objects.filter(model=model).values_list("version", flat=True))
        if model is not None
        else []
    )
    context: dict[str, Any] = {
        "filter": filterset,
        "page": page,
        "model": model,
        "versions": versions,
        "page_size": PAGE_SIZE,
        "csv_cap": CSV_MAX_ROWS,
        # Buttons only; the services decide (and refuse with a 403). The model's authors
        # triage its feedback; anyone who plans work may file an item for their team.
        "may_review": any(can_edit_model(person, row.feedback.model) for row in page.rows),
        "may_file": has_role(person, *WORKER_ROLES),
        "here": request.get_full_path(),
    }
    return render(request, "feedback/inbox.html", context)


@require_GET
def model_inbox(request: HtmxHttpRequest, name: str) -> HttpResponse:
    """One model's inbox: the inbox filtered to the model (the model page links here)."""
    model = get_object_or_404(RegisteredModel.objects.only("name"), name=name)
    return HttpResponseRedirect(f"{reverse('feedback:inbox')}?{urlencode({'model': model.name})}")


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


@require_GET
def inbox_csv(request: HtmxHttpRequest) -> StreamingHttpResponse:
    """The filtered feedback (every page, up to the cap) with its predictions, streamed."""
    filterset = _filterset(request)
    model = filterset.chosen_model
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        for row in csv_rows(filterset.qs):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    name = f"feedback-{model.name}.csv" if model is not None else "feedback.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _back(request: HtmxHttpRequest) -> str:
    """The inbox page the triage form was on (this site only), else the inbox."""
    wanted = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return wanted if wanted and safe else reverse("feedback:inbox")


@require_POST
def triage(request: HtmxHttpRequest) -> HttpResponse:
    """Mark the ticked feedback reviewed, or file one backlog item about it."""
    person = signed_in(request)
    back = _back(request)
    form = TriageForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return HttpResponseRedirect(back, status=303)
    chosen = list(form.cleaned_data["feedback"])
    if form.cleaned_data["action"] == TriageForm.REVIEW:
        count = mark_reviewed(actor=person, feedback=chosen, now=timezone.now())
        already = len(chosen) - count
        note = f" ({already} already were)" if already else ""
        messages.success(request, f"{count} marked reviewed{note}.")
        return HttpResponseRedirect(back, status=303)
    try:
        item = file_item(actor=person, feedback=chosen)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return HttpResponseRedirect(back, status=303)
    messages.success(
        request,
        f"#{item.pk} filed about {len(chosen)} piece{'s' if len(chosen) != 1 else ''} "
        "of feedback and their predictions. Give it an assignee and a priority.",
    )
    return HttpResponseRedirect(item.get_absolute_url(), status=303)
