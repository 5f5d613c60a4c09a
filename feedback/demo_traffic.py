"""The demo's production traffic: which requests each risk model served over the window, and
what the version serving each one answered (its own ONNX artifact, run here). No writes:
``demo.py`` logs it all through the services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from registry.demo.common import _snake
from registry.demo.wine import CULTIVARS
from registry.models import ModelVersion

DAYS = 30


@dataclass(frozen=True)
class Traffic:
    model: str
    total: int  # predictions over the window
    versions: tuple[str, str]  # before and after the switch
    switch_day: int
    labels: tuple[str, ...]  # the label of each class index the artifact answers
    noise: float  # relative measurement noise
    outcome: str  # a 0/1 business outcome reported for a share of predictions
    people: str  # who gives feedback, as pseudonymous end-user ids
    requesters: str  # who sends the requests, likewise
    client: str  # the calling application, in the request metadata
    comments: tuple[str, ...]
    load: Callable[[], tuple[list[str], np.ndarray, np.ndarray]]  # names, rows, true classes
    request: Callable[[int, dict[str, float], str, str], dict[str, Any]]


@dataclass
class Served:
    """One request as the service answered it."""

    prediction_id: str
    at: datetime
    version: str
    features: dict[str, Any]
    truth: str
    label: str
    probabilities: dict[str, float]

    @property
    def wrong(self) -> bool:
        return self.label != self.truth


def _wine() -> tuple[list[str], np.ndarray, np.ndarray]:
    from sklearn.datasets import load_wine

    data = load_wine()
    return [_snake(n) for n in data.feature_names], data.data, data.target


def _breast() -> tuple[list[str], np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    # The demo models learnt 1 = malignant (registry.demo.breast).
    return [_snake(n) for n in data.feature_names], data.data, (data.target == 0).astype(int)


def _wine_request(
    number: int, values: dict[str, float], version: str, truth: str
) -> dict[str, Any]:
    request: dict[str, Any] = {"lot_id": f"LOT-{310000 + number:06d}", "chemistry": values}
    if version != "1.0.0":
        request["declared_cultivar"] = truth  # the lot's paperwork
    return request


def _breast_request(
    number: int, values: dict[str, float], version: str, truth: str
) -> dict[str, Any]:
    request: dict[str, Any] = {"case_id": f"FNA-2026-{number:05d}", "measurements": values}
    if version != "1.0.0":
        request["return_contributions"] = number % 3 == 0
    return request


TRAFFIC = (
    Traffic(
        model="wine-cultivar",
        total=1_600,
        versions=("1.0.0", "1.1.0"),
        switch_day=15,
        labels=tuple(CULTIVARS),
        noise=0.12,
        outcome="lot_released",
        people="inspector",
        requesters="clerk",
        client="intake-app/3.4.1",
        comments=(
            "Paperwork and a second lab run both say otherwise; released after review.",
            "Colour intensity from the new lab looks high across the board. Calibration?",
            "Held for two days for nothing, the lot was fine.",
            "Borderline sample, the probabilities were close. Sent to the senior taster.",
            "Supplier swapped barrels; the model was right to flag it.",
        ),
        load=_wine,
        request=_wine_request,
    ),
    Traffic(
        model="breast-cancer-screening",
        total=1_200,
        versions=("1.0.0", "1.1.0"),
        switch_day=10,
        labels=("benign", "malignant"),
        noise=0.20,
        outcome="biopsy_ordered",
        people="pathologist",
        requesters="clinician",
        client="cyto-viewer/2.2.0",
        comments=(
            "Core biopsy confirmed the opposite; the aspirate was poor quality.",
            "Second reader disagreed, the smear had lots of blood.",
            "Useful as a second opinion, agreed with my read.",
            "Borderline case, referred anyway.",
        ),
        load=_breast,
        request=_breast_request,
    ),
)


def serve(traffic: Traffic, start: datetime, rng: np.random.Generator) -> list[Served]:
    """Every request of the window, in time order, as the version serving it answered."""
    names, rows, classes = traffic.load()
    sessions = {v: _session(traffic.model, v) for v in traffic.versions}
    if any(session is None for session in sessions.values()):
        return []  # no valid artifact to score with
    times = _times(traffic.total, start, rng)
    picked = rng.integers(0, len(rows), traffic.total)
    inputs = rows[picked] * np.exp(rng.normal(0.0, traffic.noise, (traffic.total, len(names))))
    if "color_intensity" in names:  # the new lab of the last ten days reads it high
        late = np.array([at >= start + timedelta(days=DAYS - 10) for at in times])
        inputs[late, names.index("color_intensity")] *= 1.35
    switch = start + timedelta(days=traffic.switch_day)
    versions = [traffic.versions[1] if at >= switch else traffic.versions[0] for at in times]
    answers = _answers(sessions, versions, inputs)
    served = []
    for number, (at, version, row, truth, (label, proba)) in enumerate(
        zip(times, versions, inputs, classes[picked], answers, strict=True)
    ):
        values = {name: round(float(value), 4) for name, value in zip(names, row, strict=True)}
        served.append(
            Served(
                prediction_id=f"{traffic.model[:4]}-{number + 1:06d}",
                at=at,
                version=version,
                features=traffic.request(number, values, version, traffic.labels[truth]),
                truth=traffic.labels[truth],
                label=traffic.labels[label],
                probabilities={
                    name: round(float(p), 4) for name, p in zip(traffic.labels, proba, strict=True)
                },
            )
        )
    return served


def _session(model: str, version: str) -> Any:
    """An onnxruntime session of the version's validated artifact, or None."""
    import onnxruntime

    found = ModelVersion.objects.filter(model__name=model, version=version).first()
    artifact = getattr(found, "artifact", None)
    if artifact is None or artifact.status != "valid":
        return None
    with artifact.file.open("rb") as handle:
        data = handle.read()
    return onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])


def _answers(
    sessions: dict[str, Any], versions: list[str], inputs: np.ndarray
) -> list[tuple[int, np.ndarray]]:
    """(class index, probabilities) of each request, from the version that served it."""
    answers: list[tuple[int, np.ndarray]] = [(0, np.empty(0))] * len(versions)
    for version, session in sessions.items():
        rows = [i for i, v in enumerate(versions) if v == version]
        if not rows:
            continue
        labels, probabilities = session.run(None, {"features": inputs[rows].astype(np.float32)})
        for i, label, proba in zip(rows, labels, probabilities, strict=True):
            answers[i] = (int(label), proba)
    return answers


def _times(total: int, start: datetime, rng: np.random.Generator) -> list[datetime]:
    """``total`` moments over the window: weekdays busier, office hours, traffic growing."""
    weights = np.array(
        [
            (0.45 if (start + timedelta(days=d)).weekday() >= 5 else 1.0) * (1 + d / DAYS)
            for d in range(DAYS)
        ]
    )
    per_day = np.floor(total * weights / weights.sum()).astype(int)
    per_day[-1] += total - per_day.sum()  # the count never depends on the calendar
    times = []
    for day, count in enumerate(per_day):
        hours = np.clip(rng.normal(13.0, 3.0, count), 6.0, 22.0)
        times += [start + timedelta(days=day, hours=float(h)) for h in hours]
    return sorted(times)
