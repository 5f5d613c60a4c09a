"""Reads other parts of the evaluation app share."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType

from portal.jobs import JobStatus
from registry.choices import VersionStatus
from registry.evaluation.models import Dataset, Evaluation
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


def activity_links(targets: Iterable[tuple[int, str]]) -> dict[tuple[int, str], str]:
    """The page of each dataset and evaluation an audit event names
    (``portal.activity.links_for``): a query per kind asked for. Gone since: no link."""
    types = ContentType.objects.get_for_models(Dataset, Evaluation)
    wanted: dict[int, list[int]] = defaultdict(list)
    for type_id, target_id in targets:
        if target_id.isdigit():
            wanted[type_id].append(int(target_id))
    links: dict[tuple[int, str], str] = {}
    if ids := wanted.get(types[Dataset].pk):
        for dataset in Dataset.objects.filter(pk__in=ids).only("name", "version"):
            links[(types[Dataset].pk, str(dataset.pk))] = dataset.get_absolute_url()
    if ids := wanted.get(types[Evaluation].pk):
        found = Evaluation.objects.filter(pk__in=ids).select_related("version__model")
        for evaluation in found.only("version__version", "version__model__name"):
            links[(types[Evaluation].pk, str(evaluation.pk))] = evaluation.get_absolute_url()
    return links
