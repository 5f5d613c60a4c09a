"""Demo: a search ranker with an incomplete card and no artifact on its latest version."""

from __future__ import annotations

from typing import Any

import numpy as np

from portal.models import Team
from registry.choices import TaskType, VersionStatus
from registry.demo.common import (
    SCHEMA,
    SEED,
    _to_onnx,
    _upload,
)
from registry.services.model_cards import update_card
from registry.services.models import create_model
from registry.services.versions import create_version, set_version_status

RANKER_FEATURES = ["bm25_title", "bm25_body", "ctr_30d", "freshness_days", "doc_length"]


def _ranker_contract(minor: int) -> tuple[dict[str, Any], dict[str, Any]]:
    candidate = {
        "type": "object",
        "properties": {
            "doc_id": {"type": "string"},
            **{name: {"type": "number", "minimum": 0} for name in RANKER_FEATURES},
        },
        "required": ["doc_id", *RANKER_FEATURES],
    }
    request: dict[str, Any] = {
        "$schema": SCHEMA,
        "title": "Rerank request",
        "type": "object",
        "properties": {
            "query": {"type": "string", "minLength": 1, "maxLength": 512},
            "candidates": {"type": "array", "minItems": 1, "maxItems": 200, "items": candidate},
        },
        "required": ["query", "candidates"],
    }
    response: dict[str, Any] = {
        "$schema": SCHEMA,
        "title": "Rerank result",
        "type": "object",
        "properties": {
            "ranking": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"doc_id": {"type": "string"}, "score": {"type": "number"}},
                    "required": ["doc_id", "score"],
                },
            },
            "model_version": {"type": "string"},
        },
        "required": ["ranking", "model_version"],
    }
    if minor >= 1:
        request["properties"]["locale"] = {"type": "string", "pattern": "^[a-z]{2}(-[A-Z]{2})?$"}
    return request, response


def _ranker() -> Any:
    """A pointwise linear scorer fitted on generated query-document pairs (fixed seed)."""
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(SEED)
    features = np.column_stack(
        [
            rng.gamma(2.0, 2.0, 2000),
            rng.gamma(2.0, 3.0, 2000),
            rng.beta(1.5, 20.0, 2000),
            rng.exponential(90.0, 2000),
            rng.lognormal(6.5, 0.6, 2000),
        ]
    ).astype(np.float32)
    grade = 0.35 * features[:, 0] + 0.15 * features[:, 1] + 12.0 * features[:, 2]
    grade -= 0.004 * features[:, 3] + rng.normal(0, 0.5, 2000)
    return make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(features, grade)


def seed_ranker(owner: Any, team: Team) -> None:
    model = create_model(
        actor=owner,
        name="search-ranker",
        title="Search results re-ranker",
        team=team,
        summary="Re-orders the top 200 lexical matches for the site search box.",
        task_type=TaskType.RANKING,
        tags=["search", "ranking"],
    )
    candidates = [
        {
            "doc_id": "kb-1042",
            "bm25_title": 7.1,
            "bm25_body": 11.4,
            "ctr_30d": 0.081,
            "freshness_days": 12,
            "doc_length": 640,
        },
        {
            "doc_id": "kb-0877",
            "bm25_title": 2.3,
            "bm25_body": 14.9,
            "ctr_30d": 0.012,
            "freshness_days": 410,
            "doc_length": 2210,
        },
    ]
    scorer = _ranker()
    rows = np.array([[c[name] for name in RANKER_FEATURES] for c in candidates], np.float32)
    scores = [round(float(v), 3) for v in scorer.predict(rows)]
    ranking = [
        {"doc_id": c["doc_id"], "score": v}
        for v, c in sorted(zip(scores, candidates, strict=True), key=lambda pair: -pair[0])
    ]
    for minor, label in enumerate(["0.9.0", "1.0.0"]):
        request_schema, response_schema = _ranker_contract(minor)
        example_request: dict[str, Any] = {
            "query": "reset two-factor authentication",
            "candidates": candidates,
        }
        if minor:
            example_request["locale"] = "en-GB"
        version = create_version(
            actor=owner,
            model=model,
            version=label,
            notes="Pointwise linear scorer." if not minor else "Accepts an optional locale.",
            input_schema=request_schema,
            output_schema=response_schema,
            example_request=example_request,
            example_response={"ranking": ranking, "model_version": label},
        )
        if not minor:
            _upload(owner, version, _to_onnx(scorer, len(RANKER_FEATURES), classifier=False))
            update_card(
                actor=owner, card=version.card, sections=_RANKER_CARD, metadata=_RANKER_META
            )
            set_version_status(actor=owner, version=version, status=VersionStatus.CANDIDATE)


_RANKER_CARD = {
    "model_details": (
        "Scores each of the top 200 BM25 matches for a query and re-orders them. A pointwise "
        "ridge regression over five features: BM25 on title and body, 30-day click-through "
        "rate, days since the page was last updated, and document length."
    ),
    "intended_use": (
        "Re-ranking results in the help-centre search box. The lexical retriever still "
        "decides which documents are candidates; this model only changes their order."
    ),
    "training_data": (
        "2,000 query-document pairs with graded relevance. In this demo environment the "
        "pairs are synthetic, generated with a fixed seed, so no real queries or click "
        "logs are stored in the registry."
    ),
}
_RANKER_META = {
    "license": "Proprietary: internal use only",
    "languages": ["en"],
    "contacts": ["#search-relevance"],
}
