"""Lookups and small helpers shared by the registry page views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django_htmx.middleware import HtmxDetails

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
