"""Rows the quality-gate tests build: versions without artifacts, a dataset row with no file
read, and evaluations with the results a test chooses (the engine is not run)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from portal.jobs import JobStatus
from registry.evaluation.models import Dataset, Evaluation, QualityGate
from registry.evaluation.services.gates import add_rule
from registry.models import ModelVersion, RegisteredModel
from registry.services.model_cards import update_card
from registry.services.versions import create_version, set_version_status
from tests.evaluation.data import INPUT_SCHEMA

REQUIRED_SECTIONS = [
    "model_details",
    "intended_use",
    "out_of_scope_use",
    "metrics",
    "evaluation_data",
    "training_data",
    "ethical_considerations",
    "caveats_and_recommendations",
]


def version_of(
    actor: Any, model: RegisteredModel, number: str, input_schema: Any = None
) -> ModelVersion:
    return create_version(
        actor=actor,
        model=model,
        version=number,
        input_schema=INPUT_SCHEMA if input_schema is None else input_schema,
        output_schema={"type": "object"},
    )


def dataset_row(actor: Any, team: Any, name: str = "churn-eval") -> Dataset:
    return Dataset.objects.create(
        name=name,
        version="1",
        kind="evaluation",
        team=team,
        file=f"datasets/{team.pk}/{name}.csv",
        file_format="csv",
        size=1,
        sha256="0" * 64,
        created_by=actor,
        status=JobStatus.SUCCEEDED,
    )


def evaluation_of(
    version: ModelVersion,
    dataset: Dataset,
    *,
    metrics: dict[str, Any] | None = None,
    slices: list[dict[str, Any]] | None = None,
    latency: dict[str, Any] | None = None,
    rows: int = 2_000,
) -> Evaluation:
    """A succeeded evaluation holding the given results."""
    return Evaluation.objects.create(
        version=version,
        dataset=dataset,
        label_column="churned",
        task_kind="classification",
        status=JobStatus.SUCCEEDED,
        finished_at=timezone.now(),
        rows=rows,
        metrics=metrics or {},
        slices=slices or [],
        latency=latency or {},
    )


def region_slices(**f1_by_region: float) -> list[dict[str, Any]]:
    return [
        {"column": "region", "value": region, "rows": 500, "metrics": {"f1_macro": f1}}
        for region, f1 in f1_by_region.items()
    ]


def rule_of(actor: Any, model: RegisteredModel, **fields: Any) -> QualityGate:
    fields.setdefault("threshold", None)
    return add_rule(actor=actor, team=model.team, model=model, **fields)


def to_production(actor: Any, version: ModelVersion) -> None:
    set_version_status(actor=actor, version=version, status="candidate")
    set_version_status(actor=None, version=version, status="production", via_release=True)


def write_sections(actor: Any, version: ModelVersion, count: int) -> None:
    """Write the first ``count`` required card sections."""
    sections = {field: f"About {field}." for field in REQUIRED_SECTIONS[:count]}
    update_card(actor=actor, card=version.card, sections=sections)
