"""Handoff's rows in the JSON shapes MLflow's REST API answers with."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.urls import reverse

from registry.experiments.models import Experiment, MetricSummary, Run
from registry.experiments.times import milliseconds
from registry.mlflow_api.models import LoggedModel
from registry.mlflow_api.services.artifacts import model_root, run_root
from registry.mlflow_api.services.teams import TEAM_TAG
from registry.models import ModelVersion, RegisteredModel

RUN_STATUS = {"running": "RUNNING", "finished": "FINISHED", "failed": "FAILED", "killed": "KILLED"}


def ms(moment: datetime | None) -> int | None:
    return milliseconds(moment) if moment is not None else None


def pairs(mapping: dict[str, str] | Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    items = mapping.items() if isinstance(mapping, dict) else mapping
    return [{"key": key, "value": value} for key, value in items]


def experiment(row: Experiment) -> dict[str, Any]:
    created = ms(row.created_at)
    return {
        "experiment_id": str(row.pk),
        "name": row.name,
        "artifact_location": f"mlflow-artifacts:/{row.pk}",
        "lifecycle_stage": "active",
        "creation_time": created,
        "last_update_time": created,
        "tags": pairs({TEAM_TAG: row.team.slug}),
    }


def metric(summary: MetricSummary) -> dict[str, Any]:
    return {
        "key": summary.key,
        "value": summary.last,
        "timestamp": ms(summary.last_timestamp),
        "step": summary.last_step,
    }


def run_info(row: Run) -> dict[str, Any]:
    run_id = str(row.pk)
    return {
        "run_id": run_id,
        "run_uuid": run_id,
        "run_name": row.name,
        "experiment_id": str(row.experiment_id),
        "user_id": row.user.username,
        "status": RUN_STATUS[row.status],
        "start_time": ms(row.started_at),
        "end_time": ms(row.ended_at),
        "artifact_uri": run_root(row),
        "lifecycle_stage": "active",
    }


def run(row: Run) -> dict[str, Any]:
    """A run with ``params``, ``tags``, ``summaries`` and ``model_outputs`` prefetched."""
    return {
        "info": run_info(row),
        "data": {
            "metrics": [metric(s) for s in row.summaries.all()],
            "params": pairs((p.key, p.value) for p in row.params.all()),
            "tags": pairs((t.key, t.value) for t in row.tags.all()),
        },
        "inputs": {},
        "outputs": {
            "model_outputs": [
                {"model_id": m.model_id, "step": m.output_step} for m in row.model_outputs.all()
            ]
        },
    }


def logged_model(row: LoggedModel) -> dict[str, Any]:
    return {
        "info": {
            "model_id": row.model_id,
            "experiment_id": str(row.experiment_id),
            "name": row.name,
            "artifact_uri": model_root(row),
            "creation_timestamp_ms": ms(row.created_at),
            "last_updated_timestamp_ms": ms(row.updated_at),
            "model_type": row.model_type,
            "source_run_id": str(row.source_run_id) if row.source_run_id else "",
            "status": row.status,
            "status_message": row.status_message,
            "tags": pairs(row.tags),
        },
        "data": {"params": pairs(row.params), "metrics": []},
    }


def registered_model(row: RegisteredModel, latest: Iterable[ModelVersion] = ()) -> dict[str, Any]:
    """A model with ``aliases`` (and their versions) prefetched."""
    return {
        "name": row.name,
        "creation_timestamp": ms(row.created_at),
        "last_updated_timestamp": ms(row.updated_at),
        "description": row.summary,
        "user_id": row.created_by.username if row.created_by_id else "",
        "latest_versions": [model_version(v) for v in latest],
        "tags": [],
        "aliases": [{"alias": a.name, "version": str(a.version.number)} for a in row.aliases.all()],
    }


def model_version(row: ModelVersion) -> dict[str, Any]:
    """A version with ``tags``, ``aliases``, ``mlflow_source`` and ``model`` at hand."""
    source = getattr(row, "mlflow_source", None)
    shape = {
        "name": row.model.name,
        "version": str(row.number),
        "creation_timestamp": ms(row.created_at),
        "last_updated_timestamp": ms(row.updated_at),
        "user_id": row.created_by.username,
        "current_stage": "None",
        "description": row.notes,
        "source": source.source if source else "",
        "run_id": str(source.run_id) if source and source.run_id else "",
        "status": "READY",
        "tags": pairs((t.key, t.value) for t in row.tags.all()),
        "aliases": [a.name for a in row.aliases.all()],
        "run_link": reverse("registry:version-detail", args=[row.model.name, row.version]),
    }
    if source and source.logged_model_id:
        shape["model_id"] = source.logged_model.model_id  # type: ignore[union-attr]
    return shape
