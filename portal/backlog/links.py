"""The kinds of object an item can be about, by a short name the API and the pages use.

Apps add theirs with ``register_linkable`` in their AppConfig.ready (runs, releases, drift
reports, feedback); the registry's models and versions are known from the start. Names map to
"app_label.Model" strings, so the backlog imports no other app.
"""

from __future__ import annotations

from django.apps import apps
from django.db import models

LINKABLE: dict[str, str] = {
    "model": "registry.RegisteredModel",
    "version": "registry.ModelVersion",
}


def register_linkable(name: str, model: str) -> None:
    LINKABLE[name] = model


def linkable_model(name: str) -> type[models.Model] | None:
    label = LINKABLE.get(name)
    return apps.get_model(label) if label else None


def link_name(model: type[models.Model]) -> str | None:
    """The short name of ``model`` (``"model"`` for a RegisteredModel), None if not linkable."""
    label = model._meta.label
    return next((name for name, known in LINKABLE.items() if known == label), None)
