"""Two versions of a model side by side: card, contract and metadata differences."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.web import HtmxHttpRequest
from registry.models import ModelVersion
from registry.queries import full_versions, light_versions
from registry.services.comparison import compare_versions
from registry.views.shared import get_model, shown


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
    # The choices need only names and statuses; the two compared versions are read in full.
    versions = light_versions(model)  # highest semver first
    context: dict[str, Any] = {"model": model, "versions": versions}
    if not versions:
        return render(request, "registry/version_compare.html", context)
    # By default: the latest version, against the one just below it.
    chosen_b = _choose(versions, request.GET.get("b"), versions[0])
    below = versions[versions.index(chosen_b) + 1 :]
    chosen_a = _choose(versions, request.GET.get("a"), below[0] if below else chosen_b)
    full = full_versions(model, [chosen_a, chosen_b])
    a, b = full[chosen_a.pk], full[chosen_b.pk]
    context.update({"a": a, "b": b, "same": a.pk == b.pk})
    if a.pk != b.pk and getattr(b, "card", None) is not None:
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
