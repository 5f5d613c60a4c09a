"""Demo: a breast-cancer screening model with a breaking contract change in 2.0.0."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from portal.models import Team
from registry.choices import TaskType, VersionStatus
from registry.demo.common import (
    SCHEMA,
    SEED,
    SKLEARN_TOY,
    UCI_BREAST,
    Split,
    _binary_metrics,
    _example_row,
    _forest,
    _logistic,
    _measurement_schema,
    _ratio,
    _snake,
    _split,
    _table,
    _to_onnx,
    _upload,
    _wilson,
)
from registry.services.model_cards import update_card
from registry.services.models import create_model
from registry.services.versions import create_version, set_version_status

BREAST_DATASET = "Breast Cancer Wisconsin (Diagnostic)"


@dataclass
class BreastRelease:
    version: str
    algorithm: str
    estimator: Any
    threshold: float
    notes: str


def _breast_releases() -> list[BreastRelease]:
    return [
        BreastRelease(
            "1.0.0",
            "standardised logistic regression (C = 1.0)",
            _logistic(1.0),
            0.5,
            "First registered version: logistic regression on all 30 nuclear measurements.",
        ),
        BreastRelease(
            "1.1.0",
            "standardised logistic regression (C = 0.5, class-balanced weights)",
            _logistic(0.5, balanced=True),
            0.5,
            "Class-balanced weights to raise sensitivity; adds optional per-feature "
            "contributions to the response. Contract is backwards compatible.",
        ),
        BreastRelease(
            "2.0.0",
            "random forest (80 trees, depth ≤ 6), decision threshold 0.35",
            _forest(80, 6),
            0.35,
            "BREAKING: requests must say where the aspirate was digitised (`acquisition`), "
            "the `indeterminate` band is gone (borderline cases carry `refer_for_review: true` "
            "instead), and responses no longer carry `model_version`: read the "
            "`X-Model-Version` header.",
        ),
    ]


def _breast_contract(names: list[str], version: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """1.1.0 adds optional contributions (compatible); 2.0.0 breaks the request and response."""
    request: dict[str, Any] = {
        "$schema": SCHEMA,
        "title": "Screening request",
        "type": "object",
        "properties": {
            "case_id": {
                "type": "string",
                "minLength": 1,
                "maxLength": 64,
                "description": "Pseudonymous case reference; never a patient identifier.",
            },
            "measurements": _measurement_schema(
                names, "Mean, standard error and worst value of ten nucleus measurements."
            ),
        },
        "required": ["case_id", "measurements"],
    }
    bands = ["likely_benign", "indeterminate", "suspicious"]
    response: dict[str, Any] = {
        "$schema": SCHEMA,
        "title": "Screening result",
        "type": "object",
        "properties": {
            "case_id": {"type": "string"},
            "assessment": {"type": "string", "enum": bands},
            "malignancy_probability": {"type": "number", "minimum": 0, "maximum": 1},
            "model_version": {"type": "string"},
        },
        "required": ["case_id", "assessment", "malignancy_probability", "model_version"],
    }
    if version != "1.0.0":
        request["properties"]["return_contributions"] = {
            "type": "boolean",
            "default": False,
            "description": "Also return the three measurements that moved the score most.",
        }
        response["properties"]["top_contributions"] = {
            "type": "array",
            "maxItems": 3,
            "items": {
                "type": "object",
                "properties": {"feature": {"type": "string"}, "weight": {"type": "number"}},
                "required": ["feature", "weight"],
            },
        }
    if version.startswith("2."):
        request["properties"]["acquisition"] = {
            "type": "object",
            "description": "Where the slide was digitised, for per-site drift monitoring.",
            "properties": {
                "site_id": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{2}$"},
                "scanner_model": {"type": "string", "maxLength": 100},
            },
            "required": ["site_id", "scanner_model"],
        }
        request["required"].append("acquisition")
        response["properties"]["assessment"]["enum"] = ["likely_benign", "suspicious"]
        del response["properties"]["model_version"]
        response["required"].remove("model_version")
        response["properties"]["refer_for_review"] = {
            "type": "boolean",
            "description": "True when the probability is close to the threshold.",
        }
    return request, response


def _breast_examples(
    release: BreastRelease, names: list[str], row: np.ndarray
) -> tuple[dict[str, Any], dict[str, Any]]:
    probability = float(release.estimator.predict_proba(row.reshape(1, -1))[0, 1])
    request: dict[str, Any] = {
        "case_id": "FNA-2024-00417",
        "measurements": _example_row(names, row),
    }
    response: dict[str, Any] = {
        "case_id": "FNA-2024-00417",
        "malignancy_probability": round(probability, 4),
        "model_version": release.version,
    }
    if release.version.startswith("2."):
        request["acquisition"] = {"site_id": "MAD-01", "scanner_model": "Aperio AT2"}
        response["assessment"] = (
            "suspicious" if probability >= release.threshold else "likely_benign"
        )
        response["refer_for_review"] = 0.15 <= probability < 0.6
        del response["model_version"]
        return request, response
    response["assessment"] = (
        "suspicious"
        if probability >= 0.8
        else "likely_benign"
        if probability < 0.2
        else "indeterminate"
    )
    if release.version == "1.1.0":
        request["return_contributions"] = True
        response["top_contributions"] = _contributions(release.estimator, names, row)
    return request, response


def _contributions(pipeline: Any, names: list[str], row: np.ndarray) -> list[dict[str, Any]]:
    scaled = pipeline.steps[0][1].transform(row.reshape(1, -1))[0]
    weights = scaled * pipeline.steps[-1][1].coef_[0]
    top = np.argsort(-np.abs(weights))[:3]
    return [{"feature": names[i], "weight": round(float(weights[i]), 3)} for i in top]


def seed_breast_cancer(owner: Any, team: Team) -> None:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    names = [_snake(n) for n in data.feature_names]
    split = _split(data.data, (data.target == 0).astype(int))  # 1 = malignant
    model = create_model(
        actor=owner,
        name="breast-cancer-screening",
        title="Breast cancer screening (FNA cytology)",
        team=team,
        summary="Probability that a fine-needle aspirate is malignant, as a second reader.",
        task_type=TaskType.BINARY_CLASSIFICATION,
        tags=["healthcare", "tabular", "second-reader"],
    )
    example_case = split.x_test[int(np.argmax(split.y_test == 1))]
    previous: dict[str, float] | None = None
    for release in _breast_releases():
        release.estimator.fit(split.x_train, split.y_train)
        request_schema, response_schema = _breast_contract(names, release.version)
        example_request, example_response = _breast_examples(release, names, example_case)
        version = create_version(
            actor=owner,
            model=model,
            version=release.version,
            notes=release.notes,
            input_schema=request_schema,
            output_schema=response_schema,
            example_request=example_request,
            example_response=example_response,
        )
        _upload(owner, version, _to_onnx(release.estimator, len(names)))
        proba = release.estimator.predict_proba(split.x_test)[:, 1]
        metrics = _binary_metrics(split.y_test, proba, release.threshold)
        update_card(
            actor=owner,
            card=version.card,
            sections=_breast_card(release, split, proba, metrics, previous),
            metadata=_breast_metadata(owner),
        )
        previous = metrics
        if release.version != "2.0.0":
            set_version_status(actor=owner, version=version, status=VersionStatus.CANDIDATE)


def _breast_metadata(owner: Any) -> dict[str, Any]:
    return {
        "license": "Proprietary: internal use only",
        "languages": ["en"],
        "datasets": [BREAST_DATASET],
        "contacts": [owner.email or "risk-modelling@handoff.example", "#risk-modelling"],
        "links": [UCI_BREAST, f"{SKLEARN_TOY}#breast-cancer-dataset"],
    }


def _breast_card(
    release: BreastRelease,
    split: Split,
    proba: np.ndarray,
    metrics: dict[str, float],
    previous: dict[str, float] | None,
) -> dict[str, str]:
    n_test, n_train = len(split.y_test), len(split.y_train)
    positives = int(split.y_test.sum())
    caught = positives - int(metrics["False negatives"])
    low, high = _wilson(caught, positives)
    return {
        "model_details": (
            "Estimates the probability that a breast mass sampled by fine-needle aspiration "
            "(FNA) is malignant, from 30 nuclear measurements extracted from the digitised "
            f"slide.\n\n- **Version:** {release.version}\n- **Algorithm:** {release.algorithm}\n"
            "- **Input:** mean, standard error and worst value of radius, texture, perimeter, "
            "area, smoothness, compactness, concavity, concave points, symmetry and fractal "
            "dimension\n- **Output:** malignancy probability and an assessment band\n"
            "- **Runtime:** ONNX (opset 17) on CPU with onnxruntime\n"
            "- **Owner:** Risk Modelling"
        ),
        "intended_use": (
            "A second reader for cytopathologists. Aspirates the model scores as suspicious "
            "are put at the front of the review queue and double-read. The pathologist makes "
            "the diagnosis in every case; the score is advisory and is shown next to the "
            "slide, never on its own."
        ),
        "out_of_scope_use": (
            "- Diagnosing, or telling a patient anything, without a pathologist's review.\n"
            "- Other modalities: mammography, ultrasound, core-biopsy histology.\n"
            "- Measurements from a different digitisation pipeline: the features are not "
            "calibrated across pipelines.\n"
            "- Population screening: the training cohort was referred for diagnosis and is "
            "37 % malignant, far above screening prevalence, so predictive values would be "
            "badly overstated."
        ),
        "factors": (
            "Results are broken down by lesion size (mean radius above or below the held-out "
            "median), because small lesions are where cytology is hardest. Age, ethnicity and "
            "menopausal status are not recorded in the dataset, so performance across those "
            "groups is unknown. Staining and scanners differ between labs; from 2.0.0 each "
            "request names its site and scanner so drift can be watched per site."
        ),
        "metrics": (
            f"Held-out set of {n_test} aspirates ({positives} malignant); malignant is the "
            f"positive class and the decision threshold is {release.threshold}.\n\n"
            + _table(("Metric", "Value"), list(metrics.items()))
            + f"\n\nSensitivity is the primary metric: {caught} of {positives} malignant "
            f"aspirates were flagged (95 % Wilson interval {low:.2f} to {high:.2f})."
        ),
        "evaluation_data": (
            f"A stratified 25 % hold-out of the {BREAST_DATASET} dataset: {n_test} "
            f"aspirates, {positives} malignant. The split uses a fixed seed ({SEED}), so every "
            "version of this model is scored on exactly the same cases."
        ),
        "training_data": (
            f"The other 75 % ({n_train} aspirates, {int(split.y_train.sum())} malignant) of "
            f"the {BREAST_DATASET} dataset: 569 aspirates from the University of Wisconsin "
            "Hospitals, Madison (Street, Wolberg and Mangasarian, 1993), as bundled with "
            "scikit-learn. Each record holds features computed from a digitised FNA image. "
            "There are no missing values and no records were dropped."
        ),
        "quantitative_analyses": _breast_analyses(split, proba, release, metrics, previous),
        "ethical_considerations": (
            "A missed malignancy can delay treatment; a false alarm causes anxiety and extra "
            "procedures. That is why the model is a second reader only and why its threshold "
            "favours sensitivity. The data is small, single-centre and more than thirty years "
            "old, and carries no demographic fields, so we cannot show that the model works "
            "equally well for every group of patients. Case references are pseudonymous; the "
            "service neither receives nor logs patient identifiers."
        ),
        "caveats_and_recommendations": (
            "- Check calibration on local cases before reading the probability as a risk.\n"
            f"- The held-out set is small ({n_test} cases); read differences of a point or "
            "two between versions as noise.\n"
            "- Re-validate whenever the digitisation software or staining protocol changes.\n"
            "- Track the share of `suspicious` results per site; a sudden shift usually means "
            "an upstream change, not a change in patients."
        ),
    }


def _subgroup_row(
    label: str, mask: np.ndarray, split: Split, proba: np.ndarray, threshold: float
) -> tuple[Any, ...]:
    truth, scores = split.y_test[mask], proba[mask]
    predicted = scores >= threshold
    positives, negatives = int(truth.sum()), int((truth == 0).sum())
    sensitivity = _ratio(int(np.sum(predicted & (truth == 1))), positives)
    specificity = _ratio(int(np.sum(~predicted & (truth == 0))), negatives)
    return (label, int(mask.sum()), positives, sensitivity, specificity)


def _breast_analyses(
    split: Split,
    proba: np.ndarray,
    release: BreastRelease,
    metrics: dict[str, float],
    previous: dict[str, float] | None,
) -> str:
    radius = split.x_test[:, 0]
    cut = float(np.median(radius))
    rows = [
        _subgroup_row(f"mean radius < {cut:.1f}", radius < cut, split, proba, release.threshold),
        _subgroup_row(f"mean radius ≥ {cut:.1f}", radius >= cut, split, proba, release.threshold),
    ]
    text = "### By lesion size\n\n" + _table(
        ("Subgroup", "Cases", "Malignant", "Sensitivity", "Specificity"), rows
    )
    if previous is not None:
        compared = [
            (name, previous[name], metrics[name])
            for name in ("ROC AUC", "Sensitivity (malignant recall)", "Specificity")
        ]
        text += "\n\n### Against the previous version\n\n" + _table(
            ("Metric", "Previous", release.version), compared
        )
    return text


# wine-cultivar ------------------------------------------------------------------------
