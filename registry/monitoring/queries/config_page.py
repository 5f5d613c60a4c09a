"""The read path of a version's monitoring settings page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, IntegerField, Value, When

from portal.jobs import JobStatus
from registry.evaluation.models import Dataset, DatasetKind
from registry.models import ModelVersion
from registry.monitoring.models import MonitoringConfig
from registry.monitoring.selection import ColumnKind
from registry.monitoring.services.configs import default_columns

DATASETS_LISTED = 200  # choices of the settings form's reference and current dataset


@dataclass(frozen=True)
class ConfigPage:
    config: MonitoringConfig | None
    datasets: list[Dataset]  # the choices, reference datasets first, without profiles
    reference: Dataset | None  # the one the column rows come from, with its profile
    rows: list[dict[str, Any]]  # the column table's initial rows
    paths: dict[str, list[str]]  # where each column sits in a logged request

    @property
    def reference_columns(self) -> list[str]:
        return sorted(self.reference.column_names()) if self.reference else []


def config_page(version: ModelVersion, *, wanted: str | None = None) -> ConfigPage:
    """The version's settings, the datasets to choose from and the column rows of the
    reference ``wanted`` (a primary key from the form), else the saved or the first one."""
    config = (
        MonitoringConfig.objects.filter(version=version)
        .select_related("reference", "current")
        .defer("reference__columns", "current__columns")
        .first()
    )
    datasets = team_datasets(version)
    if config is not None and config.reference_id not in {d.pk for d in datasets}:
        datasets.append(config.reference)  # another team's, or past the list's end
    by_pk = {dataset.pk: dataset for dataset in datasets}
    asked = _pk(wanted)
    chosen = by_pk.get(asked) if asked is not None else None
    chosen = chosen or (config.reference if config else None)
    if chosen is None and datasets:
        chosen = datasets[0]
    reference = Dataset.objects.get(pk=chosen.pk) if chosen else None  # with its profile
    if reference is None:
        return ConfigPage(config, datasets, None, [], {})
    defaults = default_columns(version, reference)
    present = set(reference.column_names())
    saved = [c for c in (config.columns if config else []) if c["name"] in present]
    paths = {c["name"]: list(c.get("path") or [c["name"]]) for c in [*defaults, *saved]}
    return ConfigPage(config, datasets, reference, column_rows(saved, defaults), paths)


def _pk(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def team_datasets(version: ModelVersion) -> list[Dataset]:
    """The profiled datasets of the model's team, reference datasets first, without their
    profiles (the select needs names only)."""
    first = Case(
        When(kind=DatasetKind.REFERENCE, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    listed = Dataset.objects.filter(
        team_id=version.model.team_id, status=Dataset.status_of(JobStatus.SUCCEEDED)
    ).only("pk", "name", "version", "kind", "created_at")
    ordered = listed.annotate(reference_first=first)
    return list(ordered.order_by("reference_first", "name", "-created_at")[:DATASETS_LISTED])


def column_rows(
    saved: Sequence[Mapping[str, Any]], defaults: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """A row per saved column (monitored), then per default column not saved (monitored
    only when nothing is saved yet)."""
    rows = [{**column, "include": True} for column in saved]
    have = {column["name"] for column in saved}
    rows += [{**c, "include": not saved} for c in defaults if c["name"] not in have]
    return [
        {
            "name": row["name"],
            "include": row["include"],
            "kind": row.get("kind") or ColumnKind.CATEGORICAL,
            "test": row.get("test") or "",
            "threshold": row.get("threshold"),
            "critical": bool(row.get("critical")),
        }
        for row in rows
    ]
