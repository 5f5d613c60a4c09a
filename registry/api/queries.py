"""Read paths of the registry API's lists: rows cheap enough for a page of 200.

A list pays per row, so rows are plain values (the models list) or carry what they show as
annotations (the versions list) instead of related instances; tests/registry/test_api_rows.py
holds each row equal to the same object read alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Case, F, Q, QuerySet, Value, When

from registry.lookups import AnyOf
from registry.models import ModelVersion, RegisteredModel
from registry.queries import latest_version_value, production_version_value

# What a row of the models API shows, as plain values: a page may hold 200 rows, and model
# instances with their team and creator cost more than the rest of the request.
API_ROW_VALUES = ("pk", "name", "title", "summary", "task_type", "created_at", "updated_at")


def model_api_queryset() -> QuerySet[RegisteredModel]:
    """The models API: team and creator, with the names of the latest and production versions."""
    return (
        RegisteredModel.objects.select_related("team", "created_by")
        .annotate(
            latest_version_name=latest_version_value("version"),
            production_version_name=production_version_value("version"),
        )
        .order_by("name")
    )


def model_api_rows(models: QuerySet[RegisteredModel]) -> QuerySet[Any]:
    """The values of ``model_api_queryset()`` (filtered) that a row of the list shows."""
    return models.values(
        *API_ROW_VALUES,
        "latest_version_name",
        "production_version_name",
        team_slug=F("team__slug"),
        creator=F("created_by__username"),
    )


def tag_names(model_ids: Iterable[int]) -> dict[int, list[str]]:
    """The tag names of each model, in one query of names: no Tag rows or managers."""
    names: dict[int, list[str]] = {pk: [] for pk in model_ids}
    pairs = (
        RegisteredModel.tags.through.objects.filter(AnyOf("registeredmodel_id", list(names)))
        .order_by("tag__name")
        .values_list("registeredmodel_id", "tag__name")
    )
    for model_id, name in pairs:
        names[model_id].append(name)
    return names


# The versions API -------------------------------------------------------------------------


def api_versions(model_name: str, *, listing: bool = False) -> QuerySet[ModelVersion]:
    """The versions of a model for the API, highest semver first.

    ``listing`` is a page of the list (50 versions): the names of the model and creator and
    the card's written-section count come as annotations, so each row builds two instances
    (the version and its artifact) instead of five. A version read alone may be edited
    next, so it comes whole.
    """
    versions = ModelVersion.objects.filter(model__name=model_name).order_by("-sort_key")
    if listing:
        return (
            versions.select_related("artifact")
            .defer("notes_html")
            .annotate(
                model_name=F("model__name"),
                creator=F("created_by__username"),
                card_written=Case(
                    When(card__isnull=True, then=Value(None)),
                    default=written_sections("card__"),
                ),
            )
        )
    # The card's rendered HTML is for pages; the API reads only its completeness.
    return versions.select_related("model", "created_by", "artifact", "card").defer(
        "card__html", "notes_html"
    )


def written_sections(prefix: str = "") -> Any:
    """How many required card sections are written, counted in SQL.

    The card services store sections normalised (no leading blank lines, no trailing
    space), so a section nobody wrote is exactly "" and the count needs none of the text.
    """
    unwritten = [
        Q(**{f"{prefix}{field}": ""}) | Q(**{f"{prefix}{field}__isnull": True})
        for field in settings.HANDOFF_CARD_REQUIRED_SECTIONS
    ]
    return sum(
        (Case(When(empty, then=Value(0)), default=Value(1)) for empty in unwritten), Value(0)
    )
