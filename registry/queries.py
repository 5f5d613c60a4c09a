"""Read-side querysets for the registry pages: a constant number of queries per page.

A page must not run one query per model or per version. The list annotates each model
with its latest version (highest semver ``sort_key``) and prefetches just that version with
its card and artifact; the model page fetches the versions once and everything else in
single queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Cast

from portal.models import AuditEvent
from registry.models import Artifact, ModelCard, ModelVersion, RegisteredModel

ACTIVITY_LIMIT = 20


def latest_version_value(field: str, model_ref: str = "pk") -> Subquery:
    """A subquery giving ``field`` of the highest-semver version of ``OuterRef(model_ref)``."""
    latest = ModelVersion.objects.filter(model=OuterRef(model_ref)).order_by("-sort_key")
    return Subquery(latest.values(field)[:1])


def model_list_queryset() -> QuerySet[RegisteredModel]:
    """Models with team, tags and their latest version (card and artifact) in 3 queries."""
    latest_only = (
        ModelVersion.objects.filter(sort_key=latest_version_value("sort_key", "model"))
        .select_related("card", "artifact")
        # Build metadata does not count in semver, so 1.0.0+a and 1.0.0+b tie: newest first.
        .order_by("-number")
    )
    return RegisteredModel.objects.select_related("team").prefetch_related(
        "tags",
        Prefetch("versions", queryset=latest_only, to_attr="latest_versions"),
    )


def page_versions(model: RegisteredModel) -> list[ModelVersion]:
    """Every version of ``model``, highest semver first, with creator and artifact."""
    return list(
        model.versions.select_related("created_by", "artifact").order_by("-sort_key", "-pk")
    )


def cards_by_version(versions: Iterable[ModelVersion | None]) -> dict[int, ModelCard]:
    """The cards of ``versions`` keyed by version id, in one query."""
    ids = [version.pk for version in versions if version is not None]
    if not ids:
        return {}
    return {card.version_id: card for card in ModelCard.objects.filter(version_id__in=ids)}


def _ids_as_text(queryset: QuerySet[Any]) -> QuerySet[Any]:
    # AuditEvent.target_id is text, so compare against the primary keys cast to text.
    return queryset.annotate(pk_text=Cast("pk", CharField())).values("pk_text")


def model_activity(model: RegisteredModel, limit: int = ACTIVITY_LIMIT) -> list[AuditEvent]:
    """Audit events of the model, its versions, cards and artifacts: newest ``limit``."""
    types = ContentType.objects.get_for_models(RegisteredModel, ModelVersion, ModelCard, Artifact)
    versions = ModelVersion.objects.filter(model=model)
    targets = (
        Q(target_type=types[RegisteredModel], target_id=str(model.pk))
        | Q(target_type=types[ModelVersion], target_id__in=_ids_as_text(versions))
        | Q(
            target_type=types[ModelCard],
            target_id__in=_ids_as_text(ModelCard.objects.filter(version__model=model)),
        )
        | Q(
            target_type=types[Artifact],
            target_id__in=_ids_as_text(Artifact.objects.filter(version__model=model)),
        )
    )
    return list(AuditEvent.objects.filter(targets).select_related("actor")[:limit])
