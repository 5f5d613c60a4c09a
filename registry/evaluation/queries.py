"""Reads other parts of the evaluation app share."""

from __future__ import annotations

from portal.jobs import JobStatus
from registry.choices import VersionStatus
from registry.evaluation.models import Evaluation
from registry.models import ModelVersion


def production_version(version: ModelVersion) -> ModelVersion | None:
    """The version of the same model in production now, if it is another one."""
    found = (
        ModelVersion.objects.filter(model_id=version.model_id, status=VersionStatus.PRODUCTION)
        .exclude(pk=version.pk)
        .order_by("-sort_key")
        .first()
    )
    return found


def champion_for(evaluation: Evaluation) -> Evaluation | None:
    """The latest succeeded evaluation of the production version on the same dataset and
    label column: what ``evaluation``'s version is compared with (champion vs challenger)."""
    production = production_version(evaluation.version)
    if production is None:
        return None
    return (
        Evaluation.objects.filter(
            version=production,
            dataset_id=evaluation.dataset_id,
            label_column=evaluation.label_column,
            status=JobStatus.SUCCEEDED,
        )
        .order_by("-finished_at", "-pk")
        .first()
    )
