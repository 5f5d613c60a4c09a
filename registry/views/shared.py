"""Lookups shared by the registry page views; the generic web helpers live in portal.web."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404

from registry.models import ModelVersion, RegisteredModel


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
