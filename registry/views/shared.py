"""Lookups and small helpers shared by the registry page views."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, QueryDict
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django_htmx.middleware import HtmxDetails

from portal.concurrency import StaleEdit
from portal.services.audit import events_for
from portal.textdiff import FieldDifference, field_differences
from registry.models import ModelVersion, RegisteredModel


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def wants_fragment(request: HtmxHttpRequest) -> bool:
    """An htmx request that swaps part of the page (a history restore needs the whole page)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def get_model(name: str) -> RegisteredModel:
    return get_object_or_404(RegisteredModel.objects.select_related("team"), name=name)


def get_version(name: str, version: str) -> ModelVersion:
    return get_object_or_404(
        ModelVersion.objects.select_related("model__team"), model__name=name, version=version
    )


def shown(value: Any) -> str:
    """A metadata value as text: lists joined with commas, None as empty."""
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return "" if value is None else str(value)


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


@dataclass(frozen=True)
class StaleNotice:
    message: str
    differences: list[FieldDifference]


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
