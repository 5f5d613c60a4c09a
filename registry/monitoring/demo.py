"""Demo drift monitoring for `make demo`, made through the services.

Breast-cancer screening 1.1.0 is watched against the cases it was trained on. Four days
ago the screening lab switched to a new stain, which reads nucleus texture coarser: from
then on ``mean_texture`` and ``worst_texture`` come in about 25 % higher. Two weeks of
daily reports show the drift share over time; the first report after the switch raised the
drift alert on the backlog, and the later ones comment on it.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from feedback.models import ApiKey
from feedback.services.access import Caller
from feedback.services.predictions import log_predictions
from registry.demo.common import SEED, _snake, _split
from registry.evaluation.models import Dataset, DatasetKind
from registry.evaluation.services.datasets import create_dataset, profile_dataset
from registry.models import ModelVersion
from registry.monitoring.models import MonitoringConfig
from registry.monitoring.services.configs import default_columns, save_config
from registry.monitoring.services.reports import run_report, start_report

MODEL, VERSION = "breast-cancer-screening", "1.1.0"
REFERENCE = "breast-screening-reference"
SERVER_KEY = "Intake and screening services"
DAYS = 14  # daily reports
SHIFT_DAYS = 4  # since the new stain
PER_DAY = 60  # screening requests a day on top of the feedback demo's
STAINED = ("mean_texture", "worst_texture")
STAIN_FACTOR = 1.25
LABELS = ("benign", "malignant")


def seed_monitoring(users: dict[str, Any]) -> None:
    """The reference, the traffic and two weeks of reports, once."""
    version = ModelVersion.objects.filter(model__name=MODEL, version=VERSION).first()
    key = ApiKey.objects.filter(name=SERVER_KEY, model=None).first()
    if version is None or key is None or MonitoringConfig.objects.filter(version=version).exists():
        return
    alice = users["alice"]
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    names, reference = _reference(alice, version)
    _traffic(version, key, names, today)
    columns = default_columns(version, reference)
    for column in columns:
        if column["name"] in STAINED:
            # Texture is what a lab change moves first; a stricter p keeps false alarms rare.
            column.update(critical=True, threshold=0.01)
    config = save_config(
        actor=alice,
        version=version,
        reference=reference,
        columns=columns,
        prediction_column="diagnosis",
        schedule="daily",
        window_hours=24,
    )
    for days_ago in range(DAYS - 1, -1, -1):
        # As beat would have: each report a few minutes after its day ended.
        with time_machine.travel(today - timedelta(days=days_ago, minutes=-5), tick=False):
            report, _ = start_report(actor=None, config=config, trigger="schedule")
            run_report(report_id=report.pk)


def _reference(owner: Any, version: ModelVersion) -> tuple[list[str], Dataset]:
    """The training cases with the diagnosis the model should reproduce."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    names = [_snake(n) for n in data.feature_names]
    split = _split(data.data, (data.target == 0).astype(int))
    columns: dict[str, Any] = {n: split.x_train[:, i] for i, n in enumerate(names)}
    columns["diagnosis"] = [LABELS[int(t)] for t in split.y_train]
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer)
    dataset = create_dataset(
        actor=owner,
        team=version.model.team,
        name=REFERENCE,
        version="2026-11",
        kind=DatasetKind.REFERENCE,
        description="The cases every breast-screening version was trained on, with their "
        "diagnosis: what drift monitoring compares production requests with.",
        upload=SimpleUploadedFile(f"{REFERENCE}.parquet", buffer.getvalue()),
    )
    return names, profile_dataset(dataset_id=dataset.pk)


def _traffic(version: ModelVersion, key: ApiKey, names: list[str], today: datetime) -> None:
    """Two weeks of screening requests, the last days under the new stain."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    rows, truth = data.data, (data.target == 0).astype(int)
    rng = np.random.default_rng(SEED + 700)
    stained = [names.index(name) for name in STAINED]
    for days_ago in range(DAYS, 0, -1):
        day = today - timedelta(days=days_ago)
        picked = rng.integers(0, len(rows), PER_DAY)
        values = rows[picked] * np.exp(rng.normal(0.0, 0.03, (PER_DAY, len(names))))
        if days_ago <= SHIFT_DAYS:
            values[:, stained] *= STAIN_FACTOR
        wrong = rng.random(PER_DAY) < 0.06
        records = [
            _record(version, day, days_ago, i, names, values[i], truth[p] ^ int(w), rng)
            for i, (p, w) in enumerate(zip(picked, wrong, strict=True))
        ]
        with time_machine.travel(day + timedelta(hours=23, minutes=50), tick=False):
            log_predictions(caller=Caller(key=key), records=records, now=timezone.now())


def _record(
    version: ModelVersion,
    day: datetime,
    days_ago: int,
    number: int,
    names: list[str],
    row: np.ndarray,
    label: int,
    rng: np.random.Generator,
) -> dict[str, Any]:
    at = day + timedelta(minutes=int(rng.integers(7 * 60, 23 * 60)))
    measurements = {name: round(float(v), 4) for name, v in zip(names, row, strict=True)}
    confidence = round(float(rng.uniform(0.6, 0.99)), 4)
    return {
        "model": version.model.name,
        "version": version.version,
        "prediction_id": f"scr-{days_ago:02d}-{number:04d}",
        "timestamp": at.isoformat(),
        "features": {
            "case_id": f"FNA-2026-9{days_ago:02d}{number:03d}",
            "measurements": measurements,
            "return_contributions": False,
        },
        "output": {
            "label": LABELS[label],
            "probabilities": {LABELS[label]: confidence, LABELS[1 - label]: 1 - confidence},
        },
        "latency_ms": round(float(rng.lognormal(2.1, 0.35)), 2),
    }
