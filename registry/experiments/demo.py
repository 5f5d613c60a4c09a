"""Demo experiments: a learning-rate x depth sweep per demo model, with real training curves.

Each run trains a scikit-learn GradientBoostingClassifier on the bundled data set (the same
stratified split as the registry demo) and logs, per boosting stage, the training and
validation log loss and the validation accuracy, read from ``staged_predict_proba``. Runs
carry their params, tags, the sha256 of the bundled CSV and of the two splits, the Python
version and a frozen package list; the first runs of each sweep froze an older
scikit-learn, so the compare page shows a package difference. Everything goes through the
services on a moved clock, so the runs and their audit events are dated over the last week.
Seeding again changes nothing: an experiment that exists is left alone.

The wine sweep's best run (highest validation accuracy, then lowest validation loss) is
promoted to wine-cultivar 1.2.0, so that version's page shows how to reproduce it.
"""

from __future__ import annotations

import hashlib
import platform
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import metadata, resources
from itertools import product
from typing import Any

import numpy as np
import time_machine
from django.db import transaction
from django.utils import timezone

from portal.models import Team
from registry.demo.common import SEED, Split, _split
from registry.experiments.models import Experiment, MetricSummary, Run
from registry.experiments.services.experiments import create_experiment
from registry.experiments.services.promotion import promote_run
from registry.experiments.services.runs import create_run, end_run, log_batch
from registry.models import RegisteredModel

STAGES = 50  # boosting stages per run: one logged step each
FROZEN = ("joblib", "numpy", "scikit-learn", "scipy", "threadpoolctl")
DIRECTIONS = {"train_loss": "min", "val_loss": "min", "val_accuracy": "max"}
SECONDS_PER_STAGE = 3  # the demo clock's pace, so point timestamps read like a real run


@dataclass(frozen=True)
class Sweep:
    experiment: str
    model: str  # the demo model the sweep trains
    owner: str
    description: str
    csv: str  # the bundled data file, in sklearn.datasets.data
    load: Callable[[], Any]
    learning_rates: tuple[float, ...]
    depths: tuple[int, ...]
    promote_as: str = ""  # the version the best run becomes, when the model is registered


def _sweeps() -> list[Sweep]:
    from sklearn.datasets import load_breast_cancer, load_wine

    return [
        Sweep(
            "wine-cultivar-gbm-sweep",
            "wine-cultivar",
            "bob",
            "Would gradient boosting beat the random forest of wine-cultivar 1.1.0? "
            "Learning rate x tree depth, 50 stages, same stratified split as the cards.",
            "wine_data.csv",
            load_wine,
            (0.03, 0.1, 0.3),
            (2, 3),
            promote_as="1.2.0",
        ),
        Sweep(
            "breast-cancer-gbm-sweep",
            "breast-cancer-screening",
            "alice",
            "Gradient-boosted stumps and shallow trees for the screening model; watch the "
            "validation loss of the large learning rates turn up as they overfit.",
            "breast_cancer.csv",
            load_breast_cancer,
            (0.05, 0.1, 0.3, 0.6),
            (1, 2),
        ),
    ]


def seed_experiments(users: dict[str, Any]) -> None:
    """Create the demo sweeps that don't exist yet; run it as often as you like."""
    team = Team.objects.get(name="Risk Modelling")
    existing = set(Experiment.objects.values_list("name", flat=True))
    for index, sweep in enumerate(_sweeps()):
        if sweep.experiment not in existing:
            days_ago = 6 - 3 * index  # the wine sweep ran first
            _seed_sweep(sweep, users[sweep.owner], team, timezone.now() - timedelta(days=days_ago))


@transaction.atomic
def _seed_sweep(sweep: Sweep, owner: Any, team: Team, start: datetime) -> None:
    data = sweep.load()
    split = _split(data.data, data.target)
    datasets = _datasets(sweep.csv, split)
    with time_machine.travel(start, tick=False) as clock:
        experiment = create_experiment(
            actor=owner,
            team=team,
            name=sweep.experiment,
            description=sweep.description,
            model=RegisteredModel.objects.filter(name=sweep.model).first(),
            metric_directions=DIRECTIONS,
        )
        grid = list(product(sweep.learning_rates, sweep.depths))
        for number, (rate, depth) in enumerate(grid):
            at = start + timedelta(hours=2 * number)
            clock.move_to(at)
            run = create_run(
                actor=owner,
                experiment=experiment,
                name=f"lr={rate} depth={depth}",
                started_at=at,
                git_commit=_commit(sweep.experiment, number < len(grid) // 2),
                source="train/boosting.py",
                datasets=datasets,
                python_version=platform.python_version(),
                packages=_frozen(older_sklearn=number < 2),
            )
            points, final = _train(split, rate, depth, at)
            log_batch(
                actor=owner,
                run=run,
                metrics=points,
                params=_params(rate, depth, split),
                tags=_tags(sweep, final),
            )
            ended = at + timedelta(seconds=SECONDS_PER_STAGE * STAGES)
            clock.move_to(ended)
            end_run(actor=owner, run=run, ended_at=ended)
        if experiment.model is not None and sweep.promote_as:
            clock.move_to(start + timedelta(hours=2 * len(grid) + 1))
            promote_run(
                actor=owner,
                run=_best_run(experiment),
                version=sweep.promote_as,
                notes="The best run of the gradient-boosting sweep.",
            )


def _best_run(experiment: Experiment) -> Run:
    """The highest validation accuracy, then the lowest validation loss."""
    lasts: dict[int, dict[str, float]] = {}
    summaries = MetricSummary.objects.filter(run__experiment=experiment)
    for run_id, key, last in summaries.values_list("run_id", "key", "last"):
        lasts.setdefault(run_id, {})[key] = last
    best = max(lasts, key=lambda pk: (lasts[pk]["val_accuracy"], -lasts[pk]["val_loss"]))
    return Run.objects.get(pk=best)


def _train(
    split: Split, rate: float, depth: int, start: datetime
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """One metric point per boosting stage, and the final values."""
    from sklearn.ensemble import GradientBoostingClassifier

    model = GradientBoostingClassifier(
        learning_rate=rate, max_depth=depth, n_estimators=STAGES, subsample=0.8, random_state=SEED
    )
    model.fit(split.x_train, split.y_train)
    labels = list(np.unique(split.y_train))
    train_index = np.searchsorted(labels, split.y_train)
    test_index = np.searchsorted(labels, split.y_test)
    curves = zip(
        model.staged_predict_proba(split.x_train),
        model.staged_predict_proba(split.x_test),
        strict=True,
    )
    points: list[dict[str, Any]] = []
    values: dict[str, float] = {}
    for step, (train, test) in enumerate(curves):
        values = {
            "train_loss": _log_loss(train, train_index),
            "val_loss": _log_loss(test, test_index),
            "val_accuracy": float(np.mean(test.argmax(axis=1) == test_index)),
        }
        stamp = start + timedelta(seconds=SECONDS_PER_STAGE * (step + 1))
        points += [
            {"key": key, "value": value, "step": step, "timestamp": stamp}
            for key, value in values.items()
        ]
    return points, values


def _log_loss(proba: np.ndarray, truth: np.ndarray) -> float:
    """sklearn's log_loss without its input checks, which cost more than the sum itself."""
    picked = np.clip(proba[np.arange(len(truth)), truth], 1e-15, 1.0)
    return float(-np.mean(np.log(picked)))


def _params(rate: float, depth: int, split: Split) -> list[dict[str, Any]]:
    return [
        {"key": "learning_rate", "value": rate},
        {"key": "max_depth", "value": depth},
        {"key": "n_estimators", "value": STAGES},
        {"key": "subsample", "value": 0.8},
        {"key": "random_state", "value": SEED},
        {"key": "test_size", "value": 0.25},
        {"key": "n_features", "value": int(split.x_train.shape[1])},
        {"key": "n_train", "value": len(split.y_train)},
    ]


def _tags(sweep: Sweep, final: dict[str, float]) -> list[dict[str, str]]:
    verdict = "overfits" if final["val_loss"] > 2 * final["train_loss"] + 0.05 else "ok"
    return [
        {"key": "sweep", "value": "learning_rate x max_depth"},
        {"key": "estimator", "value": "GradientBoostingClassifier"},
        {"key": "model", "value": sweep.model},
        {"key": "fit", "value": verdict},
    ]


def _datasets(csv: str, split: Split) -> list[dict[str, str]]:
    bundled = resources.files("sklearn.datasets.data").joinpath(csv).read_bytes()
    return [
        {"name": f"sklearn/datasets/data/{csv}", "sha256": _sha(bundled), "role": "source"},
        {
            "name": f"{csv}, training split (75 %, seed {SEED})",
            "sha256": _split_sha(split, "train"),
            "role": "training",
        },
        {
            "name": f"{csv}, validation split (25 %, seed {SEED})",
            "sha256": _split_sha(split, "test"),
            "role": "validation",
        },
    ]


def _split_sha(split: Split, part: str) -> str:
    features, target = getattr(split, f"x_{part}"), getattr(split, f"y_{part}")
    return _sha(np.ascontiguousarray(features).tobytes() + np.ascontiguousarray(target).tobytes())


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _commit(experiment: str, first_half: bool) -> str:
    """A stable 40-digit commit id: the sweep's code changed once, half-way through."""
    return hashlib.sha1(f"{experiment}:{first_half}".encode()).hexdigest()  # noqa: S324


def _frozen(*, older_sklearn: bool) -> str:
    """``pip freeze`` lines for the packages that matter, as installed here."""
    lines = []
    for name in FROZEN:
        version = metadata.version(name)
        if name == "scikit-learn" and older_sklearn:
            version = _previous(version)
        lines.append(f"{name}=={version}")
    return "\n".join(lines) + "\n"


def _previous(version: str) -> str:
    """The release before ``version`` (1.6.1 → 1.6.0, 1.6.0 → 1.5.0), for the older runs."""
    found = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
    if found is None:
        return f"{version}.dev0"  # not X.Y.Z: still a different version
    major, minor, patch = (int(part) for part in found.groups())
    return f"{major}.{minor}.{patch - 1}" if patch else f"{major}.{max(minor - 1, 0)}.0"
