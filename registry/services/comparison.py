"""Everything that differs between two versions of a model, for the API and the compare page."""

from __future__ import annotations

from typing import Any

from registry.models import ModelVersion
from registry.services.card_diffs import card_diff, metadata_diff
from registry.services.versions import contract_changes


def version_facts(version: ModelVersion) -> dict[str, Any]:
    """The metadata of a version that a reviewer compares side by side.

    The registration number is left out: it always differs and says nothing about the model.
    The examples are in: a contract edit that drops one should show.
    """
    artifact = getattr(version, "artifact", None)
    card = getattr(version, "card", None)
    return {
        "status": version.status,
        "notes": version.notes,
        "example_request": version.example_request,
        "example_response": version.example_response,
        "artifact_sha256": artifact.sha256 if artifact else None,
        "artifact_status": artifact.status if artifact else None,
        "opset": artifact.opset if artifact else None,
        "card_completeness": card.completeness if card else None,
    }


def compare_versions(a: ModelVersion, b: ModelVersion) -> dict[str, Any]:
    changes = contract_changes(a, b)
    facts_a, facts_b = version_facts(a), version_facts(b)
    metadata = [
        {"field": field, "a": facts_a[field], "b": facts_b[field]}
        for field in facts_a
        if facts_a[field] != facts_b[field]
    ]
    metadata += [
        {"field": f"card.{field}", "a": old, "b": new}
        for field, old, new in metadata_diff(getattr(a, "card", None), b.card)
    ]
    return {
        "a": a.version,
        "b": b.version,
        "breaking_changes": sum(change.is_breaking for change in changes),
        "contract_changes": [change.as_dict() for change in changes],
        "card_diff": [
            {
                "field": d.field,
                "title": d.title,
                "status": d.status,
                "lines": [list(x) for x in d.lines],
            }
            for d in card_diff(getattr(a, "card", None), b.card)
        ],
        "metadata_diff": metadata,
    }
