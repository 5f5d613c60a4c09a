"""Demo registry content for `make demo`, built through the services like any user's.

Three models, trained at seed time on scikit-learn's bundled datasets (nothing is
downloaded), converted with skl2onnx, uploaded as artifacts and validated. Every metric
in the cards is computed here on a held-out split, so the numbers are real.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.models import Team
from registry.choices import TaskType, VersionStatus
from registry.models import ModelVersion, RegisteredModel
from registry.services.artifacts import store_artifact, validate_artifact
from registry.services.model_cards import update_card
from registry.services.models import create_model
from registry.services.versions import create_version, set_version_status

SCHEMA = "https://json-schema.org/draft/2020-12/schema"
SEED = 7
UCI_BREAST = "https://archive.ics.uci.edu/dataset/17/breast+cancer+wisconsin+diagnostic"
UCI_WINE = "https://archive.ics.uci.edu/dataset/109/wine"
SKLEARN_TOY = "https://scikit-learn.org/stable/datasets/toy_dataset.html"


def seed_registry(users: dict[str, Any]) -> None:
    """Create the demo models that don't exist yet; run it as often as you like."""
    risk = Team.objects.get(name="Risk Modelling")
    search = Team.objects.get(name="Search Relevance")
    existing = set(RegisteredModel.objects.values_list("name", flat=True))
    if "breast-cancer-screening" not in existing:
        _seed_breast_cancer(users["alice"], risk)
    if "wine-cultivar" not in existing:
        _seed_wine(users["bob"], risk)
    if "search-ranker" not in existing:
        _seed_ranker(users["dmitri"], search)


# Training -----------------------------------------------------------------------------


@dataclass
class Split:
    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


def _split(features: np.ndarray, target: np.ndarray) -> Split:
    from sklearn.model_selection import train_test_split

    parts = train_test_split(
        features.astype(np.float32), target, test_size=0.25, stratify=target, random_state=SEED
    )
    return Split(*parts)


def _to_onnx(estimator: Any, width: int, *, classifier: bool = True) -> bytes:
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    model = to_onnx(
        estimator,
        initial_types=[("features", FloatTensorType([None, width]))],
        # Plain tensors (label, probabilities) instead of a list of dicts: easier to serve.
        options={type(final): {"zipmap": False}} if classifier else None,
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    return model.SerializeToString()


def _logistic(c: float, *, balanced: bool = False) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    weights = "balanced" if balanced else None
    return make_pipeline(
        StandardScaler(), LogisticRegression(C=c, class_weight=weights, max_iter=2000)
    )


def _forest(trees: int, depth: int) -> Any:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(
        n_estimators=trees, max_depth=depth, min_samples_leaf=2, random_state=SEED
    )


def _binary_metrics(y_true: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, float]:
    from sklearn.metrics import brier_score_loss, roc_auc_score

    predicted = proba >= threshold
    tp = int(np.sum(predicted & (y_true == 1)))
    fn = int(np.sum(~predicted & (y_true == 1)))
    tn = int(np.sum(~predicted & (y_true == 0)))
    fp = int(np.sum(predicted & (y_true == 0)))
    return {
        "ROC AUC": float(roc_auc_score(y_true, proba)),
        "Sensitivity (malignant recall)": _ratio(tp, tp + fn),
        "Specificity": _ratio(tn, tn + fp),
        "Positive predictive value": _ratio(tp, tp + fp),
        "Accuracy": _ratio(tp + tn, len(y_true)),
        "Brier score (lower is better)": float(brier_score_loss(y_true, proba)),
        "False negatives": fn,
        "False positives": fp,
    }


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else float("nan")


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "n/a" if np.isnan(value) else f"{value:.3f}"
        return str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _upload(actor: Any, version: ModelVersion, data: bytes) -> None:
    name = f"{version.model.name}-{version.version}.onnx"
    upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    artifact = store_artifact(actor=actor, version=version, upload=upload)
    # Validate now so the demo is complete without a worker; the queued task then finds
    # the artifact already valid and does nothing.
    validate_artifact(artifact_id=artifact.pk)


def _snake(name: str) -> str:
    return str(name).replace(" ", "_").replace("/", "_")


def _measurement_schema(names: list[str], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": {name: {"type": "number", "minimum": 0} for name in names},
        "required": names,
        "additionalProperties": False,
    }


def _example_row(names: list[str], row: np.ndarray) -> dict[str, float]:
    return {name: round(float(value), 4) for name, value in zip(names, row, strict=True)}


def _wilson(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson interval of a proportion, for small held-out sets."""
    if not total:
        return float("nan"), float("nan")
    p = successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    margin = z * np.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return float(centre - margin), float(centre + margin)


# breast-cancer-screening --------------------------------------------------------------

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
            "and the `indeterminate` band is gone: borderline cases carry "
            "`refer_for_review: true` instead.",
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


def _seed_breast_cancer(owner: Any, team: Team) -> None:
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


def _seed_wine(owner: Any, team: Team) -> None:
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


def _seed_ranker(owner: Any, team: Team) -> None:
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
