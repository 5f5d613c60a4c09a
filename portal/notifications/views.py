"""The notifications page: mine, newest first, and the buttons that mark them read."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from portal.notifications.models import Notification
from portal.notifications.services import mark_read
from portal.people import signed_in
from portal.text import is_number

PER_PAGE = 25


@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    person = signed_in(request)
    rows = Notification.objects.filter(recipient=person).select_related("actor")
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    # Only a link inside the portal is followed; anything else shows as text.
    entries = [(row, row.url if _internal(row.url) else "") for row in page.object_list]
    return render(request, "notifications/inbox.html", {"page": page, "entries": entries})


@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    count = mark_read(person=signed_in(request))
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read.")
    return _back(request)


@require_POST
def read_one(request: HttpRequest, pk: int) -> HttpResponse:
    person = signed_in(request)
    # Someone else's notification is a 404: its existence is not ours to reveal.
    get_object_or_404(Notification, pk=pk, recipient=person)
    mark_read(person=person, ids=[pk])
    return _back(request)


def _internal(url: str) -> bool:
    return url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None)


def _back(request: HttpRequest) -> HttpResponseRedirect:
    """Back to the page of the list the button was on."""
    target = reverse("notifications:inbox")
    page = request.POST.get("page", "")
    if is_number(page) and page != "1":
        target += f"?page={page}"
    return HttpResponseRedirect(target)
