"""The System page for administrators: is the background machinery working, and what failed."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from portal.people import signed_in
from portal.services.jobs import retry_job
from portal.system import queries


def _require_staff(request: HttpRequest) -> None:
    if not signed_in(request).is_staff:
        raise PermissionDenied("Only administrators see the System page.")


@require_GET
def system(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    context = {
        "workers": queries.workers(),
        "last_tick": queries.last_beat_tick(),
        "queues": queries.queues(),
        "failed": queries.failed_jobs(),
        "eager": not queries.settings.CELERY_BROKER_URL,
    }
    return render(request, "portal/system.html", context)


@require_POST
def retry(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    _require_staff(request)
    model = queries.job_model(kind)
    job = model._default_manager.filter(pk=pk).first() if model else None
    if job is None:
        raise Http404("No such job.")
    try:
        retry_job(job=job, actor=signed_in(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{job} is queued again.")
    return redirect("system")
