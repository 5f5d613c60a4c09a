"""The stock MLflow client, unchanged, logging to Handoff: what it writes is Handoff's data.

Every call goes over HTTP to a live server through ``mlflow``'s own code; the assertions then
read the same data through Handoff's API, pages and models.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from registry.choices import ArtifactStatus
from registry.experiments.models import MetricSummary, Param, Run, RunStatus
from registry.models import ModelAlias, ModelVersion

pytestmark = pytest.mark.django_db(transaction=True)


def _onnx_model() -> tuple[Any, np.ndarray, np.ndarray]:
    from skl2onnx import to_onnx
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, labels = load_iris(return_X_y=True)
    features = features.astype(np.float32)
    fitted = LogisticRegression(max_iter=500).fit(features, labels)
    return (
        to_onnx(fitted, features[:1], options={"zipmap": False}),
        features,
        fitted.predict(features),
    )


def test_a_data_scientists_mlflow_code_lands_in_handoff(
    mlflow_env: Any,
    alice: Any,
    token_of: Any,
    monkeypatch: pytest.MonkeyPatch,
    api_for: Any,
    client_for: Any,
) -> None:
    import mlflow.onnx
    from mlflow.models import infer_signature
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token_of(alice))
    experiment = mlflow_env.set_experiment("churn-mlflow")
    with mlflow_env.start_run(run_name="baseline") as first:
        mlflow_env.log_param("C", 1.0)
        mlflow_env.log_params({"penalty": "l2", "solver": "lbfgs"})
        for step in range(5):
            mlflow_env.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow_env.log_metrics({"acc": 0.93, "f1": 0.91}, step=5)
        mlflow_env.set_tag("stage", "sweep")
        onnx_model, features, predicted = _onnx_model()
        logged = mlflow.onnx.log_model(
            onnx_model,
            name="model",
            signature=infer_signature(features, predicted),
            pip_requirements=["onnx"],
        )
        registered = mlflow_env.register_model(logged.model_uri, "churn-risk")
        assert registered.version == "1"
    with mlflow_env.start_run(run_name="wider") as second:
        mlflow_env.log_params({"C": "10.0", "penalty": "l2", "solver": "lbfgs"})
        mlflow_env.log_metrics({"acc": 0.88, "f1": 0.85}, step=5)

    client = MlflowClient()
    client.set_registered_model_alias("churn-risk", "champion", "1")
    assert client.get_model_version_by_alias("churn-risk", "champion").version == "1"
    found = mlflow_env.search_runs(
        experiment_names=["churn-mlflow"], filter_string="metrics.acc > 0.9", output_format="list"
    )
    assert [r.info.run_id for r in found] == [first.info.run_id]
    history = client.get_metric_history(first.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(s, 1.0 / (s + 1)) for s in range(5)]
    assert client.get_run(second.info.run_id).info.status == "FINISHED"

    # Handoff's own rows: one experiment of alice's team, runs with their params and metrics.
    run = Run.objects.get(pk=int(first.info.run_id))
    assert run.experiment.pk == int(experiment.experiment_id)
    assert run.experiment.team.members.filter(pk=alice.pk).exists()
    assert (run.name, run.status, run.user) == ("baseline", RunStatus.FINISHED, alice)
    assert dict(Param.objects.filter(run=run).values_list("key", "value")) == {
        "C": "1.0",
        "penalty": "l2",
        "solver": "lbfgs",
    }
    summary = MetricSummary.objects.get(run=run, key="loss")
    assert (summary.count, summary.last, summary.last_step) == (5, 0.2, 4)
    # The registered version: number 1, semver 1.0.0, linked to its run, the ONNX file
    # validated as any upload is, the signature as its contract, the alias on the model.
    version = ModelVersion.objects.get(model__name="churn-risk")
    assert (version.number, version.version) == (1, "1.0.0")
    assert version.promotion.run == run
    assert version.artifact.status == ArtifactStatus.VALID
    assert version.artifact.original_name == "model.onnx"
    inputs = version.input_schema["properties"]["inputs"]
    assert inputs["items"] == {
        "type": "array",
        "items": {"type": "number"},
        "minItems": 4,
        "maxItems": 4,
    }
    assert ModelAlias.objects.get(model=version.model, name="champion").version == version

    # Through Handoff's API and pages.
    api = api_for(alice)
    listed = api.get(f"/api/v1/runs/?experiment={run.experiment_id}").json()
    assert {r["name"] for r in listed["results"]} == {"baseline", "wider"}
    page = client_for(alice).get(
        f"/experiments/{run.experiment_id}/compare/?runs={first.info.run_id},{second.info.run_id}"
    )
    assert page.status_code == 200
    body = page.content.decode()
    assert "baseline" in body and "wider" in body and "0.93" in body
    model_page = client_for(alice).get("/models/churn-risk/").content.decode()
    assert "champion" in model_page


def test_an_onnx_file_logged_as_an_artifact_registers_with_the_semver_it_names(
    mlflow_env: Any, alice: Any, token_of: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token_of(alice))
    onnx_model, _, _ = _onnx_model()
    path = tmp_path / "classifier.onnx"
    path.write_bytes(onnx_model.SerializeToString())
    mlflow_env.set_experiment("iris-files")
    with mlflow_env.start_run() as run:
        mlflow_env.log_artifact(str(path), artifact_path="exported")
    client = MlflowClient()
    listed = client.list_artifacts(run.info.run_id, "exported")
    assert [(f.path, f.file_size) for f in listed] == [
        ("exported/classifier.onnx", path.stat().st_size)
    ]
    client.create_registered_model("iris", tags={"handoff.team": "risk-modelling"})
    # A bare file is not an MLflow model, so register_model would refuse it: the client's
    # create_model_version takes any source.
    created = client.create_model_version(
        "iris",
        f"runs:/{run.info.run_id}/exported/classifier.onnx",
        run_id=run.info.run_id,
        tags={"handoff.semver": "2.1.0", "validation": "passed"},
    )
    assert created.version == "1"
    version = ModelVersion.objects.get(model__name="iris")
    assert (version.number, version.version) == (1, "2.1.0")
    assert version.artifact.status == ArtifactStatus.VALID
    assert dict(version.tags.values_list("key", "value")) == {"validation": "passed"}
    # With no signature, the contract is the one the ONNX graph gives.
    assert "X" in version.input_schema["properties"]
    downloaded = client.download_artifacts(run.info.run_id, "exported", str(tmp_path / "back"))
    assert (tmp_path / "back" / "exported" / "classifier.onnx").read_bytes() == path.read_bytes()
    assert downloaded.endswith("exported")
