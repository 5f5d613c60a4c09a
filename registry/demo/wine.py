"""Demo: a wine cultivar classifier with a complete card."""

from __future__ import annotations

from typing import Any

import numpy as np

from portal.models import Team
from registry.choices import TaskType, VersionStatus
from registry.demo.common import (
    SCHEMA,
    SEED,
    SKLEARN_TOY,
    UCI_WINE,
    Split,
    _example_row,
    _forest,
    _logistic,
    _measurement_schema,
    _snake,
    _split,
    _table,
    _to_onnx,
    _upload,
)
from registry.services.model_cards import update_card
from registry.services.models import create_model
from registry.services.versions import create_version, set_version_status

WINE_DATASET = "Wine (UCI Machine Learning Repository)"
WINE_FEATURE_LABELS = [
    "alcohol",
    "malic acid",
    "ash",
    "alcalinity of ash",
    "magnesium",
    "total phenols",
    "flavanoids",
    "non-flavanoid phenols",
    "proanthocyanins",
    "colour intensity",
    "hue",
    "OD280/OD315 of diluted wines",
    "proline",
]
CULTIVARS = ["cultivar_1", "cultivar_2", "cultivar_3"]


def _wine_contract(names: list[str], minor: int) -> tuple[dict[str, Any], dict[str, Any]]:
    request: dict[str, Any] = {
        "$schema": SCHEMA,
        "title": "Lot verification request",
        "type": "object",
        "properties": {
            "lot_id": {"type": "string", "pattern": "^LOT-[0-9]{6}$"},
            "chemistry": _measurement_schema(names, "Laboratory analysis of one sample."),
        },
        "required": ["lot_id", "chemistry"],
    }
    response: dict[str, Any] = {
        "$schema": SCHEMA,
        "title": "Lot verification result",
        "type": "object",
        "properties": {
            "lot_id": {"type": "string"},
            "cultivar": {"type": "string", "enum": CULTIVARS},
            "probabilities": {
                "type": "object",
                "properties": {
                    c: {"type": "number", "minimum": 0, "maximum": 1} for c in CULTIVARS
                },
                "required": CULTIVARS,
            },
            "model_version": {"type": "string"},
        },
        "required": ["lot_id", "cultivar", "probabilities", "model_version"],
    }
    if minor >= 1:
        request["properties"]["declared_cultivar"] = {"type": "string", "enum": CULTIVARS}
        response["properties"]["matches_declared"] = {"type": "boolean"}
    return request, response


def seed_wine(owner: Any, team: Team) -> None:
    from sklearn.datasets import load_wine

    data = load_wine()
    names = [_snake(n) for n in data.feature_names]
    split = _split(data.data, data.target)
    model = create_model(
        actor=owner,
        name="wine-cultivar",
        title="Wine cultivar check",
        team=team,
        summary="Checks that a lot's lab chemistry matches the cultivar on its paperwork.",
        task_type=TaskType.MULTICLASS_CLASSIFICATION,
        tags=["tabular", "quality-control"],
    )
    releases = [
        ("1.0.0", "standardised multinomial logistic regression (C = 1.0)", _logistic(1.0)),
        ("1.1.0", "random forest (60 trees, depth ≤ 5)", _forest(60, 5)),
    ]
    notes = {
        "1.0.0": "First registered version.",
        "1.1.0": "Random forest; requests may now name the declared cultivar and get "
        "`matches_declared` back. Compatible with 1.0.0.",
    }
    sample = split.x_test[0]
    for number, (label, algorithm, estimator) in enumerate(releases):
        estimator.fit(split.x_train, split.y_train)
        probabilities = estimator.predict_proba(sample.reshape(1, -1))[0]
        predicted = CULTIVARS[int(np.argmax(probabilities))]
        request: dict[str, Any] = {"lot_id": "LOT-204811", "chemistry": _example_row(names, sample)}
        response: dict[str, Any] = {
            "lot_id": "LOT-204811",
            "cultivar": predicted,
            "probabilities": {
                c: round(float(p), 4) for c, p in zip(CULTIVARS, probabilities, strict=True)
            },
            "model_version": label,
        }
        if number >= 1:
            request["declared_cultivar"] = CULTIVARS[int(split.y_test[0])]
            response["matches_declared"] = request["declared_cultivar"] == predicted
        request_schema, response_schema = _wine_contract(names, number)
        version = create_version(
            actor=owner,
            model=model,
            version=label,
            notes=notes[label],
            input_schema=request_schema,
            output_schema=response_schema,
            example_request=request,
            example_response=response,
        )
        _upload(owner, version, _to_onnx(estimator, len(names)))
        update_card(
            actor=owner,
            card=version.card,
            sections=_wine_card(label, algorithm, estimator, split),
            metadata={
                "license": "Proprietary: internal use only",
                "languages": ["en"],
                "datasets": [WINE_DATASET],
                "contacts": [owner.email or "risk-modelling@handoff.example"],
                "links": [UCI_WINE, f"{SKLEARN_TOY}#wine-recognition-dataset"],
            },
        )
        set_version_status(actor=owner, version=version, status=VersionStatus.CANDIDATE)


def _wine_card(label: str, algorithm: str, estimator: Any, split: Split) -> dict[str, str]:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, log_loss, recall_score

    predicted = estimator.predict(split.x_test)
    proba = estimator.predict_proba(split.x_test)
    recalls = recall_score(split.y_test, predicted, average=None)
    matrix = confusion_matrix(split.y_test, predicted)
    counts = np.bincount(split.y_test, minlength=3)
    headline = [
        ("Accuracy", float(accuracy_score(split.y_test, predicted))),
        ("Macro F1", float(f1_score(split.y_test, predicted, average="macro"))),
        ("Log loss (lower is better)", float(log_loss(split.y_test, proba))),
    ]
    per_class = [
        (CULTIVARS[i], int(counts[i]), float(recalls[i]), *(int(v) for v in matrix[i]))
        for i in range(3)
    ]
    return {
        "model_details": (
            "Predicts which of three grape cultivars a wine comes from, using 13 values from "
            f"a standard laboratory analysis.\n\n- **Version:** {label}\n- **Algorithm:** "
            f"{algorithm}\n- **Output:** the most likely cultivar and the probability of each\n"
            "- **Runtime:** ONNX (opset 17) on CPU with onnxruntime"
        ),
        "intended_use": (
            "Intake checks at the bonded warehouse: when a lot arrives, the lab's analysis is "
            "scored and lots whose predicted cultivar disagrees with the paperwork are held "
            "for a manual review by the quality team."
        ),
        "out_of_scope_use": (
            "- Wines from outside the original growing region, or other cultivars: the model "
            "always answers with one of the three it knows.\n"
            "- Grading quality or price.\n- Fraud decisions without a person reviewing the lot."
        ),
        "factors": (
            "The three cultivars are unevenly represented (59, 71 and 48 samples). Vintage, "
            "producer and the laboratory that ran the analysis are not recorded, so we cannot "
            "break performance down by them."
        ),
        "metrics": (
            f"Held-out set of {len(split.y_test)} samples.\n\n"
            + _table(("Metric", "Value"), headline)
            + "\n\n### Per cultivar (rows: true class; columns: predicted)\n\n"
            + _table(("Cultivar", "Samples", "Recall", *CULTIVARS), per_class)
        ),
        "evaluation_data": (
            f"A stratified 25 % hold-out ({len(split.y_test)} samples) of the {WINE_DATASET} "
            f"data set, split with a fixed seed ({SEED}) so versions are compared on the same "
            "samples."
        ),
        "training_data": (
            f"The other {len(split.y_train)} samples of the UCI Wine data (Forina et al., "
            "PARVUS): chemical analyses of wines grown in the same region of Italy from three "
            "cultivars, as bundled with scikit-learn. No missing values; nothing was dropped."
        ),
        "quantitative_analyses": _wine_analyses(estimator, split, proba, predicted),
        "ethical_considerations": (
            "No personal data is involved. A wrong answer holds a legitimate lot for review "
            "(cost: delay) or lets a mislabelled lot through (cost: a customer complaint), so "
            "every disagreement goes to a person and the model never rejects a lot by itself."
        ),
        "caveats_and_recommendations": (
            "- The training set is small (133 samples) and decades old; re-check accuracy on "
            "recent lots before trusting it for a new supplier.\n"
            "- Treat a top probability below 0.7 as “unsure” and review the lot.\n"
            "- Inputs outside the training ranges (for example proline above "
            f"{split.x_train[:, 12].max():,.0f} mg/L) should be flagged by the caller."
        ),
    }


def _wine_analyses(estimator: Any, split: Split, proba: np.ndarray, predicted: np.ndarray) -> str:
    names = [str(n) for n in WINE_FEATURE_LABELS]
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    weights = getattr(final, "feature_importances_", None)
    if weights is None:
        weights = np.abs(final.coef_).mean(axis=0)  # standardised inputs: comparable
    top = [names[i] for i in np.argsort(-weights)[:3]]
    confident = proba.max(axis=1)
    right = predicted == split.y_test
    mistakes = [
        f"{CULTIVARS[t]} taken for {CULTIVARS[p]}"
        for t, p in zip(split.y_test[~right], predicted[~right], strict=True)
    ]
    rows = [
        ("Correct predictions", int(right.sum()), float(confident[right].mean())),
        ("Errors", int((~right).sum()), float(confident[~right].mean()) if mistakes else "n/a"),
    ]
    return (
        f"The most influential inputs are {top[0]}, {top[1]} and {top[2]}; a lab that changes "
        "how it measures them will shift predictions. "
        + (f"Held-out errors: {'; '.join(mistakes)}." if mistakes else "No held-out errors.")
        + f" {int((confident < 0.7).sum())} of {len(confident)} held-out samples have a top "
        "probability below 0.7.\n\n### Confidence\n\n"
        + _table(("Predictions", "Count", "Mean top probability"), rows)
    )


# search-ranker ------------------------------------------------------------------------
