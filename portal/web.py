"""Helpers every app's page views share: typed requests, htmx, and forms that call services.

A page view parses the request, hands a valid form to one service call through ``submit``
and renders; this module turns what the service says (success, a ValidationError, a stale
edit) into the page's answer, so no view repeats form → service → errors → redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.utils import timezone
from django_htmx.middleware import HtmxDetails

from portal.concurrency import StaleEdit
from portal.jobs import Job
from portal.services.audit import events_for
from portal.textdiff import FieldDifference, field_differences
from portal.uploads import limit_message, upload_too_large


class HtmxHttpRequest(HttpRequest):
    """A page request: signed in (the login middleware sees to it), with htmx details."""

    htmx: HtmxDetails
    user: User  # type: ignore[assignment]


def wants_fragment(request: HtmxHttpRequest) -> bool:
    """An htmx request that swaps part of the page (a history restore needs the whole page)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def upload_refusal(request: HttpRequest) -> str | None:
    """The message for an upload stopped at the size cap, or None when there was none."""
    return limit_message() if upload_too_large(request) else None


def apply_service_errors(
    form: forms.Form, error: ValidationError, rename: dict[str, str] | None = None
) -> None:
    """Put a service's ValidationError on the form: on a field when the form has it."""
    rename = rename or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for key, messages_ in error.message_dict.items():
        name = rename.get(key, key)
        for message in messages_:
            if name in form.fields:
                form.add_error(name, message)
            else:
                form.add_error(None, f"{key.replace('_', ' ').capitalize()}: {message}")


def report_outcome(request: HttpRequest, action: Callable[[], object], success: str) -> bool:
    """Run a service call for a button; its refusal or ``success`` becomes a page message."""
    try:
        action()
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return False
    messages.success(request, success)
    return True


J = TypeVar("J", bound=Job)


def cancel_job(
    request: HtmxHttpRequest,
    job: J,
    cancel: Callable[[J], J],
    *,
    cancelled: str,
    stopping: str,
    panel: Callable[[J], HttpResponse],
    back_to: Any = None,
) -> HttpResponse:
    """A job's Cancel button. htmx gets the job's panel (its state says what happened); a
    plain form gets the service's answer as a page message and goes back to ``back_to`` (the
    job's own page by default). ``cancelled``: the message when no worker had it, so it
    ended at once; ``stopping``: when a worker stops at its next step."""
    try:
        job = cancel(job)
    except ValidationError as exc:
        notice, level = " ".join(exc.messages), messages.ERROR
    else:
        notice, level = (cancelled if job.is_final else stopping), messages.SUCCESS
    if wants_fragment(request):
        return panel(job)
    messages.add_message(request, level, notice)
    page: Any = back_to or job  # every kind of job has a page (get_absolute_url)
    return redirect(page)


@dataclass(frozen=True)
class StaleNotice:
    message: str
    differences: list[FieldDifference]


@dataclass
class Submission:
    """What ``submit`` did: a redirect after success, or the form to show again."""

    response: HttpResponse | None = None
    stale: StaleNotice | None = None
    result: Any = field(default=None)


def submit(
    request: HttpRequest,
    form: forms.Form,
    save: Callable[[dict[str, Any]], Any],
    *,
    success: Callable[[Any], str],
    rename: dict[str, str] | None = None,
    saved: Callable[[], dict[str, Any]] | None = None,
    labels: dict[str, str] | None = None,
) -> Submission:
    """Call ``save(cleaned_data)`` for a posted, valid form and say what happened.

    Success: a message and a redirect to what ``save`` returned (or to ``result.url``
    when the view sets one). A ValidationError lands on the form's fields. A stale edit
    (``saved`` gives the row's current form values) becomes a notice of what differs.
    """
    if request.method != "POST" or not form.is_valid():
        return Submission()
    try:
        result = save(form.cleaned_data)
    except ValidationError as exc:
        apply_service_errors(form, exc, rename)
        return Submission()
    except StaleEdit as exc:
        if saved is None:
            raise
        return Submission(stale=stale_notice(form, exc, saved=saved(), labels=labels))
    messages.success(request, success(result))
    return Submission(response=redirect(result), result=result)


def stale_notice(
    form: forms.Form,
    error: StaleEdit,
    *,
    saved: dict[str, Any],
    labels: dict[str, str] | None = None,
) -> StaleNotice:
    """Explain a refused stale save: who saved, and how the saved text differs from the form's.

    The form keeps the person's text and now carries the saved revision, so submitting it
    again is a deliberate overwrite of what they have just been shown.
    """
    latest = events_for(error.target).first()
    who = "Someone else saved it"
    if latest is not None:
        when = timezone.localtime(latest.created_at)
        who = f"{latest.actor or 'Someone'} saved it at {when:%Y-%m-%d %H:%M}"
    yours = {name: value for name, value in form.cleaned_data.items() if name != "revision"}
    data = form.data.copy() if isinstance(form.data, QueryDict) else dict(form.data)
    data["revision"] = str(error.current)
    form.data = data
    form.add_error(None, f"Not saved: {who}, after you opened this form. See what differs.")
    return StaleNotice(
        message=f"{who}.",
        differences=field_differences(saved, yours, labels or {}),
    )
