"""Made-up churn data and real ONNX models trained on it, for the evaluation tests.

Nothing is downloaded: the models are scikit-learn estimators converted with skl2onnx.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

FEATURES = ["age", "income", "tenure", "tickets"]
REGIONS = ["north", "south", "east", "west"]
INPUT_SCHEMA = {
    "type": "object",
    "properties": {
        "age": {"type": "number", "minimum": 18, "maximum": 100},
        "income": {"type": "number", "minimum": 0},
        "tenure": {"type": "number", "minimum": 0},
        "tickets": {"type": "number", "minimum": 0},
        "region": {"enum": REGIONS},
    },
    "required": ["age", "income", "tenure", "tickets"],
}


def table(rows: int, seed: int = 0) -> pa.Table:
    """Customers: the four features, a region, whether they churned (the label), a
    regression target, and a column of stored predictions (for versions with no artifact)."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 90, rows).astype(np.float64)
    income = rng.gamma(4.0, 900.0, rows)
    tenure = rng.integers(0, 120, rows).astype(np.float64)
    tickets = rng.poisson(1.5, rows).astype(np.float64)
    region = rng.choice(REGIONS, rows)
    logit = 0.04 * (60 - age) - 0.02 * tenure + 0.6 * tickets - 0.0002 * income + 0.5
    churned = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    spend = 20 + 0.01 * income + 0.5 * tenure - 3 * tickets + rng.normal(0, 5, rows)
    stored = (rng.random(rows) < 0.8).astype(np.int64) * churned + (rng.random(rows) < 0.1).astype(
        np.int64
    ) * (1 - churned)
    return pa.table(
        {
            "age": age,
            "income": income,
            "tenure": tenure,
            "tickets": tickets,
            "region": region,
            "churned": churned,
            "spend": spend,
            "stored_prediction": stored,
        }
    )


def write(path: Path, data: pa.Table) -> Path:
    """``data`` as CSV or Parquet, by ``path``'s suffix."""
    if path.suffix == ".parquet":
        pq.write_table(data, path, row_group_size=10_000)
    else:
        pa_csv.write_csv(data, path)
    return path


def _fitted(kind: str) -> Any:
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = table(5_000, seed=1)
    features = np.column_stack([data[name].to_numpy() for name in FEATURES]).astype(np.float32)
    if kind == "classifier":
        estimator = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        return estimator.fit(features, data["churned"].to_numpy())
    return LinearRegression().fit(features, data["spend"].to_numpy())


@cache
def classifier_onnx() -> bytes:
    """Churn classifier: input "features" float [None, 4]; outputs "label" (int64) and
    "probabilities" (float [None, 2], classes 0 and 1)."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.linear_model import LogisticRegression

    model = to_onnx(
        _fitted("classifier"),
        initial_types=[("features", FloatTensorType([None, len(FEATURES)]))],
        options={LogisticRegression: {"zipmap": False}},
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    return model.SerializeToString()


@cache
def regressor_onnx() -> bytes:
    """Spend regressor: input "features" float [None, 4]; output "variable" float [None, 1]."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    model = to_onnx(
        _fitted("regressor"),
        initial_types=[("features", FloatTensorType([None, len(FEATURES)]))],
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    return model.SerializeToString()


def stored_dataset(path: Path, *, team: Any, actor: Any, **fields: Any) -> Any:
    """A Dataset row over ``path``'s bytes, stored in the current storage as an upload would
    be (sha256, size, sniffed format); ``fields`` set name, version, kind, status..."""
    import hashlib

    from django.core.files import File

    from registry.evaluation import datafiles
    from registry.evaluation.models import Dataset

    data = path.read_bytes()
    dataset = Dataset(
        team=team,
        created_by=actor,
        file_format=datafiles.sniff_format(data[:4096]) or "csv",
        original_name=path.name,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        **fields,
    )
    with path.open("rb") as handle:
        dataset.file.save(path.name, File(handle), save=False)
    dataset.save()
    return dataset
