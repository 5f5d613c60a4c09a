"""MLflow 3.x logged models: the 3.x client logs every model through these and fails
without them."""

from __future__ import annotations

import re
from typing import Any

from registry.mlflow_api import shapes
from registry.mlflow_api.errors import invalid, missing
from registry.mlflow_api.http import Call, endpoint
from registry.mlflow_api.lookups import as_id, run_numbered
from registry.mlflow_api.models import LoggedModel
from registry.mlflow_api.paging import paged
from registry.mlflow_api.services import logged_models
from registry.mlflow_api.views.tracking import experiment_by_id


def _model(model_id: str) -> LoggedModel:
    found = LoggedModel.objects.select_related("experiment__team").filter(model_id=model_id)
    model = found.first()
    if model is None:
        raise missing(f"Logged model with ID '{model_id}' not found.")
    return model


@endpoint("POST")
def create(call: Call) -> dict[str, Any]:
    experiment = experiment_by_id(call.text("experiment_id"))
    run_id = call.text("source_run_id", required=False)
    run = None
    if run_id:
        run = run_numbered(run_id)
        if run is None:
            raise missing(f"Run with id={run_id} not found")
    model = logged_models.create_logged_model(
        actor=call.writer(),
        experiment=experiment,
        name=call.text("name", required=False),
        source_run=run,
        model_type=call.text("model_type", required=False),
        params=call.tags("params"),
        tags=call.tags("tags"),
    )
    return {"model": shapes.logged_model(model)}


_FILTER = re.compile(r"^\s*(name|source_run_id)\s*=\s*'((?:[^']|'')*)'\s*$", re.IGNORECASE)


@endpoint("POST")
def search(call: Call) -> dict[str, Any]:
    """Logged models of some experiments, newest first, by ``name = '…'`` or
    ``source_run_id = '…'``: what the client asks to find a run's model."""
    ids = [pk for pk in map(as_id, call.items("experiment_ids")) if pk]
    rows = LoggedModel.objects.filter(experiment_id__in=ids).order_by("-created_at", "-pk")
    text = call.text("filter", required=False)
    for clause in filter(None, re.split(r"\s+and\s+", text, flags=re.IGNORECASE)):
        match = _FILTER.match(clause)
        if match is None:
            raise invalid(f"Only name = '…' and source_run_id = '…' are supported: {clause!r}.")
        field, value = match.group(1).lower(), match.group(2).replace("''", "'")
        if field == "name":
            rows = rows.filter(name=value)
        else:
            rows = rows.filter(source_run_id=as_id(value) or -1)
    return paged(call, rows, "models", shapes.logged_model, default=100)


@endpoint("GET", "PATCH", "DELETE")
def one(call: Call, model_id: str) -> dict[str, Any]:
    model = _model(model_id)
    if call.request.method == "PATCH":
        logged_models.set_status(
            actor=call.writer(),
            model=model,
            status=call.text("status"),
            message=call.text("status_message", required=False),
        )
    elif call.request.method == "DELETE":
        logged_models.set_status(
            actor=call.writer(), model=model, status="LOGGED_MODEL_UPLOAD_FAILED", message="deleted"
        )
    return {"model": shapes.logged_model(model)}


@endpoint("PATCH")
def tags(call: Call, model_id: str) -> dict[str, Any]:
    model = _model(model_id)
    logged_models.set_tags(actor=call.writer(), model=model, tags=call.tags())
    return {"model": shapes.logged_model(model)}


@endpoint("DELETE")
def tag(call: Call, model_id: str, key: str) -> dict[str, Any]:
    model = _model(model_id)
    logged_models.delete_tag(actor=call.writer(), model=model, key=key)
    return {}
