"""Two versions of a model side by side: card, contract and metadata differences."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from registry.models import ModelVersion
from registry.queries import cards_by_version, page_versions
from registry.services.comparison import compare_versions
from registry.views.shared import HtmxHttpRequest, get_model, shown


def _choose(
    versions: list[ModelVersion], wanted: str | None, default: ModelVersion
) -> ModelVersion:
    if not wanted:
        return default
    for version in versions:
        if version.version == wanted:
            return version
    raise Http404(f"No version {wanted}.")


def _label(field: str) -> str:
    return field.replace("card.", "card: ").replace("_", " ")


@require_GET
def version_compare(request: HtmxHttpRequest, name: str) -> HttpResponse:
    model = get_model(name)
    versions = page_versions(model)  # highest semver first
    context: dict[str, Any] = {"model": model, "versions": versions}
    if not versions:
        return render(request, "registry/version_compare.html", context)
    # By default: the latest version, against the one just below it.
    b = _choose(versions, request.GET.get("b"), versions[0])
    below = versions[versions.index(b) + 1 :]
    a = _choose(versions, request.GET.get("a"), below[0] if below else b)
    cards = cards_by_version([a, b])
    # Hand the cards to the versions so the comparison reads them without another query.
    for version in (a, b):
        if version.pk in cards:
            version.card = cards[version.pk]
    context.update({"a": a, "b": b, "same": a.pk == b.pk})
    if a.pk != b.pk and b.pk in cards:
        result = compare_versions(a, b)
        context.update(
            {
                "card_changes": [d for d in result["card_diff"] if d["status"] != "unchanged"],
                "contract_changes": result["contract_changes"],
                "breaking_count": result["breaking_changes"],
                "metadata_changes": [
                    {"label": _label(row["field"]), "a": shown(row["a"]), "b": shown(row["b"])}
                    for row in result["metadata_diff"]
                ],
            }
        )
    return render(request, "registry/version_compare.html", context)
