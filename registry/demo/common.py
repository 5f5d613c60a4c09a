"""Shared pieces of the demo registry: training, conversion, metrics, upload."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.models import ModelVersion
from registry.services.artifacts import store_artifact, validate_artifact

SCHEMA = "https://json-schema.org/draft/2020-12/schema"
SEED = 7
UCI_BREAST = "https://archive.ics.uci.edu/dataset/17/breast+cancer+wisconsin+diagnostic"
UCI_WINE = "https://archive.ics.uci.edu/dataset/109/wine"
SKLEARN_TOY = "https://scikit-learn.org/stable/datasets/toy_dataset.html"

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
