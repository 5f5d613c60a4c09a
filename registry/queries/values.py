"""Subqueries giving a column of a model's latest or production version.

A model's latest version is one ``LIMIT 1`` subquery on the (model, -sort_key) index, so a
list of models reads it in the same query whatever the number of models or versions.
"""

from __future__ import annotations

from django.db.models import OuterRef, Subquery

from registry.choices import VersionStatus
from registry.models import ModelVersion


def latest_version_value(field: str, model_ref: str = "pk") -> Subquery:
    """A subquery giving ``field`` of the highest-semver version of ``OuterRef(model_ref)``."""
    latest = ModelVersion.objects.filter(model=OuterRef(model_ref)).order_by("-sort_key")
    return Subquery(latest.values(field)[:1])


def production_version_value(field: str = "version") -> Subquery:
    """A subquery giving ``field`` of the highest-semver production version of the model."""
    live = ModelVersion.objects.filter(
        model=OuterRef("pk"), status=VersionStatus.PRODUCTION
    ).order_by("-sort_key")
    return Subquery(live.values(field)[:1])
