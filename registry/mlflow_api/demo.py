"""Demo: Dmitri's digit-reader sweep, logged the way the MLflow client logs it.

Three SGD runs on scikit-learn's bundled digits, one point per epoch of real training, go
through the same services the MLflow endpoints call: MLflow's system tags, millisecond
timestamps, the best model exported to ONNX with an ``MLmodel`` file (onnx flavour and a
tensor signature) under the run's artifacts, registered as digit-reader version 1 with the
alias ``champion``. Seeding again changes nothing: an experiment that exists is left alone.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import time_machine
from django.db import transaction
from django.utils import timezone

from registry.demo.common import SEED, _split, _to_onnx
from registry.experiments.models import Experiment, Run
from registry.experiments.times import milliseconds
from registry.mlflow_api.services import artifacts, registry, tracking
from registry.services.aliases import set_alias
from registry.services.artifacts import validate_artifact

EXPERIMENT = "digit-reader-mlflow"
MODEL = "digit-reader"
ALPHAS = (1e-4, 1e-3, 1e-2)
EPOCHS = 15


def seed_mlflow(users: dict[str, Any]) -> None:
    if Experiment.objects.filter(name=EXPERIMENT).exists():
        return
    _seed(users["dmitri"], timezone.now() - timedelta(days=2))


@transaction.atomic
def _seed(owner: Any, start: datetime) -> None:
    from sklearn.datasets import load_digits

    data = load_digits()
    split = _split(data.data.astype(np.float32), data.target)
    with time_machine.travel(start, tick=False) as clock:
        experiment = tracking.create_experiment(actor=owner, name=EXPERIMENT, tags={})
        runs: list[tuple[float, Run, Any]] = []
        for number, alpha in enumerate(ALPHAS):
            at = start + timedelta(minutes=20 * number)
            clock.move_to(at)
            run = tracking.start_run(
                actor=owner,
                experiment=experiment,
                run_name=f"sgd alpha={alpha:g}",
                start_time=milliseconds(at),
                tags={
                    "mlflow.user": owner.username,
                    "mlflow.source.name": "train_digits.py",
                    "mlflow.source.type": "LOCAL",
                    "mlflow.source.git.commit": "4be1c0ffee5e2d7a9b8c6d5e4f3a2b1c0d9e8f7a",
                },
            )
            model, metrics = _train(split, alpha, at)
            tracking.log_batch(
                actor=owner,
                run=run,
                metrics=metrics,
                params=_params(alpha),
                tags=[{"key": "estimator", "value": "SGDClassifier"}],
            )
            runs.append((metrics[-1]["value"], run, model))
            ended = at + timedelta(minutes=EPOCHS)
            clock.move_to(ended)
            tracking.update_run(
                actor=owner, run=run, status="FINISHED", end_time=milliseconds(ended), run_name=""
            )
        _, best, model = max(runs, key=lambda found: found[0])
        clock.move_to(start + timedelta(hours=2))
        _log_model(owner, best, model, split.x_train.shape[1])
        registry.create_registered_model(
            actor=owner,
            name=MODEL,
            description="Reads a handwritten digit from an 8x8 scan.",
            tags={},
        )
        source = registry.resolve_source(f"runs:/{best.pk}/model", str(best.pk), "")
        version = registry.create_model_version(
            actor=owner,
            model=registry.RegisteredModel.objects.get(name=MODEL),
            source=source,
            description="The best SGD run of the sweep, logged with `mlflow.onnx.log_model`.",
            tags={"validation": "passed"},
        )
        set_alias(actor=owner, version=version, name="champion")
        # Validate now so the demo is complete without a worker (the queued task then finds
        # the artifact valid and does nothing).
        validate_artifact(artifact_id=version.artifact.pk)


def _train(split: Any, alpha: float, start: datetime) -> tuple[Any, list[dict[str, Any]]]:
    """One pass over the training data per epoch; validation accuracy and loss after each.
    The model is the scaler and the classifier together, so it reads raw pixels."""
    from sklearn.linear_model import SGDClassifier
    from sklearn.metrics import accuracy_score, log_loss
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MaxAbsScaler

    classes = np.unique(split.y_train)
    scaler = MaxAbsScaler().fit(split.x_train)
    train, test = scaler.transform(split.x_train), scaler.transform(split.x_test)
    model = SGDClassifier(loss="log_loss", alpha=alpha, random_state=SEED)
    points: list[dict[str, Any]] = []
    for epoch in range(1, EPOCHS + 1):
        model.partial_fit(train, split.y_train, classes=classes)
        proba = model.predict_proba(test)
        stamp = milliseconds(start + timedelta(minutes=epoch))
        loss = float(log_loss(split.y_test, proba, labels=classes))
        accuracy = float(accuracy_score(split.y_test, classes[proba.argmax(axis=1)]))
        points.append({"key": "val_loss", "value": loss, "timestamp": stamp, "step": epoch})
        points.append({"key": "val_accuracy", "value": accuracy, "timestamp": stamp, "step": epoch})
    return make_pipeline(scaler, model), points


def _params(alpha: float) -> list[dict[str, str]]:
    return [
        {"key": "alpha", "value": repr(alpha)},
        {"key": "loss", "value": "log_loss"},
        {"key": "epochs", "value": str(EPOCHS)},
        {"key": "scaling", "value": "max-abs"},
    ]


def _log_model(owner: Any, run: Run, model: Any, width: int) -> None:
    """The files ``mlflow.onnx.log_model`` writes under ``artifacts/model``."""
    onnx_bytes = _to_onnx(model, width)
    # Named as the ONNX graph names its input and first output.
    tensor = {
        "name": "features",
        "type": "tensor",
        "tensor-spec": {"dtype": "float32", "shape": [-1, width]},
    }
    labels = {"name": "label", "type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}
    mlmodel = (
        "artifact_path: model\n"
        "flavors:\n"
        "  onnx:\n"
        "    data: model.onnx\n"
        "    onnx_version: 1.17.0\n"
        "    providers: [CPUExecutionProvider]\n"
        "  python_function:\n"
        "    loader_module: mlflow.onnx\n"
        f"run_id: '{run.pk}'\n"
        "signature:\n"
        f"  inputs: '{json.dumps([tensor])}'\n"
        f"  outputs: '{json.dumps([labels])}'\n"
    )
    root = artifacts.run_root(run).removeprefix("mlflow-artifacts:/")
    for name, body in (("model.onnx", onnx_bytes), ("MLmodel", mlmodel.encode())):
        where = artifacts.place(f"{root}/model/{name}")
        artifacts.upload(actor=owner, where=where, body=io.BytesIO(body))
