"""Set up drift monitoring of a version: the reference, the columns and how each compares,
the window and the schedule. Columns default from the input contract."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction

from portal.jobs import JobStatus
from portal.people import Person
from portal.services.audit import record_event
from portal.webhooks.services import url_problem
from registry.evaluation.mapping import contract_paths, is_numeric
from registry.evaluation.models import Dataset
from registry.models import ModelVersion
from registry.monitoring.models import MonitoringConfig, WindowSource
from registry.monitoring.permissions import require_monitor
from registry.monitoring.selection import NUMERIC_ONLY, ColumnKind, StatTest

MAX_COLUMNS = 500
SETTINGS = (
    "reference",
    "prediction_column",
    "target_column",
    "source",
    "window_hours",
    "current",
    "schedule",
    "drift_share",
    "mode",
    "webhook_url",
)


def default_columns(version: ModelVersion, reference: Dataset) -> list[dict[str, Any]]:
    """The contract's fields that the reference holds, numbers as numeric and everything
    else as categories, each with the default test; the reference's own columns (bar the
    outputs) when the version has no contract."""
    present = set(reference.column_names())
    fields = [
        {"name": path[-1], "path": list(path), "kind": _kind_of(schema)}
        for path, schema in contract_paths(version.input_schema)
        if path[-1] in present
    ]
    if not fields:
        fields = [
            {"name": c["name"], "path": [c["name"]], "kind": _profiled_kind(c)}
            for c in reference.columns
        ]
    return [{**field, "test": "", "threshold": None, "critical": False} for field in fields]


def _kind_of(schema: Mapping[str, Any]) -> str:
    numeric = is_numeric(schema, booleans=False)
    return ColumnKind.NUMERIC if numeric else ColumnKind.CATEGORICAL


def _profiled_kind(profile: Mapping[str, Any]) -> str:
    numeric = profile.get("kind") == "number"
    return ColumnKind.NUMERIC if numeric else ColumnKind.CATEGORICAL


@transaction.atomic
def save_config(
    *,
    actor: Person,
    version: ModelVersion,
    reference: Dataset,
    columns: Sequence[Mapping[str, Any]] | None = None,
    **settings: Any,
) -> MonitoringConfig:
    """Create or change the version's monitoring; ``columns`` None keeps the ones saved (or
    drafts them from the contract). Refused with the field and the reason."""
    require_monitor(actor, version)
    unknown = set(settings) - set(SETTINGS)
    if unknown:
        raise TypeError(f"unknown monitoring settings: {sorted(unknown)}")
    config = MonitoringConfig.objects.select_for_update().filter(version=version).first()
    before = _snapshot(config) if config else None
    if config is None:
        config = MonitoringConfig(version=version, reference=reference, created_by=actor)
    config.reference = reference
    for name, value in settings.items():
        # None clears a setting: no dataset, or an empty text field.
        setattr(config, name, value if value is not None or name == "current" else "")
    if columns is not None:
        config.columns = clean_columns(columns, reference)
    elif not config.columns or (before and before["reference"] != reference.pk):
        config.columns = default_columns(version, reference)
    _check(config)
    config.full_clean(exclude=["version", "created_by"])
    config.save()
    record_event(
        actor=actor,
        verb="monitoring.configured",
        target=version,
        before=before,
        after=_snapshot(config),
    )
    return config


def _check(config: MonitoringConfig) -> None:
    reference = config.reference
    errors: dict[str, str] = {}
    if reference.phase != JobStatus.SUCCEEDED:
        errors["reference"] = f"{reference} is not profiled yet: wait for it, or choose another."
    have = set(reference.column_names())
    for field in ("prediction_column", "target_column"):
        name = getattr(config, field)
        if name and name not in have:
            errors[field] = f"{reference} has no column {name!r}."
    if config.source == WindowSource.DATASET:
        if config.current is None:
            errors["current"] = "Choose the dataset to compare with the reference."
        elif config.current.phase != JobStatus.SUCCEEDED:
            errors["current"] = f"{config.current} is not profiled yet."
        elif missing := [
            c["name"] for c in config.columns if c["name"] not in set(config.current.column_names())
        ]:
            errors["current"] = f"{config.current} lacks the monitored columns: {_listed(missing)}."
    else:
        config.current = None
    share = config.drift_share
    if not isinstance(share, int | float) or not math.isfinite(share):
        errors["drift_share"] = "The drift share is a number between 0.01 and 1."
    if config.webhook_url and (problem := url_problem(config.webhook_url)):
        errors["webhook_url"] = problem
    if not config.columns:
        errors["columns"] = f"None of the contract's fields is a column of {reference}."
    if errors:
        raise ValidationError(errors)


def clean_columns(columns: Sequence[Mapping[str, Any]], reference: Dataset) -> list[dict[str, Any]]:
    """Each column as stored, or a ValidationError on ``columns`` naming the entry."""
    if not isinstance(columns, list | tuple) or not columns:
        raise ValidationError({"columns": "Monitor at least one column."})
    if len(columns) > MAX_COLUMNS:
        raise ValidationError({"columns": f"Monitor at most {MAX_COLUMNS} columns."})
    have = {str(c["name"]): c for c in reference.columns}
    cleaned, seen = [], set()
    for index, entry in enumerate(columns):
        problem, column = _column(entry, have)
        if not problem and column["name"] in seen:
            problem = f"{column['name']!r} is listed twice"
        if problem:
            raise ValidationError({"columns": f"Column {index + 1}: {problem}."})
        seen.add(column["name"])
        cleaned.append(column)
    return cleaned


def _column(entry: Any, have: Mapping[str, Mapping[str, Any]]) -> tuple[str, dict[str, Any]]:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
        return "give each column a name", {}
    name = entry["name"]
    if name not in have:
        return f"the reference has no column {name!r}", {}
    try:
        kind = ColumnKind(entry.get("kind") or _profiled_kind(have[name]))
    except ValueError:
        return f"kind is numeric or categorical, not {entry.get('kind')!r}", {}
    test = entry.get("test") or ""
    try:
        chosen = StatTest(test) if test else None
    except ValueError:
        tests = ", ".join(t.value for t in StatTest if t != StatTest.NONE)
        return f"unknown test {test!r} for {name!r}; one of {tests}", {}
    if chosen == StatTest.NONE or (chosen in NUMERIC_ONLY and kind != ColumnKind.NUMERIC):
        return f"{test} compares numbers, and {name!r} is categorical", {}
    threshold = entry.get("threshold")
    if threshold is not None and (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not math.isfinite(threshold)
        or threshold <= 0
    ):
        return f"the threshold of {name!r} must be a positive number", {}
    path = entry.get("path") or [name]
    if not isinstance(path, list) or not all(isinstance(k, str) and k for k in path):
        return f"the path of {name!r} is a list of keys", {}
    return "", {
        "name": name,
        "path": path,
        "kind": str(kind),
        "test": test,
        "threshold": float(threshold) if threshold is not None else None,
        "critical": bool(entry.get("critical")),
    }


def _snapshot(config: MonitoringConfig) -> dict[str, Any]:
    hidden = ("reference", "current", "webhook_url")
    values = {name: getattr(config, name) for name in SETTINGS if name not in hidden}
    return {
        **values,
        "reference": config.reference_id,
        "current": config.current_id,
        "columns": [c["name"] for c in config.columns],
        # The host only: a receiver's URL may carry its secret, and the audit trail is wide.
        "webhook_host": urlsplit(config.webhook_url).hostname if config.webhook_url else None,
    }


def _listed(names: Sequence[str]) -> str:
    shown = ", ".join(names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")
