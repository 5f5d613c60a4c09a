"""The notifications page and the bell."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.notifications.models import Notification
from portal.people import signed_in


@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    rows = Notification.objects.filter(recipient=signed_in(request))[:50]
    return render(request, "notifications/inbox.html", {"notifications": rows})
