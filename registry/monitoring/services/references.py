"""Reference summaries for the bounded mode: computed from a reference dataset once per
column and kind, stored, and read by every later report."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError, transaction

from registry.evaluation.models import Dataset
from registry.monitoring.comparison import collect, summarise
from registry.monitoring.models import ReferenceColumn
from registry.monitoring.reading import Column, dataset_chunks
from registry.monitoring.stats import ReferenceSummary


def reference_summaries(dataset: Dataset, columns: Sequence[Column]) -> dict[str, ReferenceSummary]:
    """Each column's stored summary, computing (and storing) those not stored yet."""
    stored = {
        (row.column, row.kind): row.summary
        for row in ReferenceColumn.objects.filter(
            dataset=dataset, column__in=[c.name for c in columns]
        )
    }
    missing = [c for c in columns if (c.name, str(c.kind)) not in stored]
    if missing:
        stored |= _summarise(dataset, missing)
    return {c.name: ReferenceSummary.from_json(stored[(c.name, str(c.kind))]) for c in columns}


def _summarise(dataset: Dataset, columns: Sequence[Column]) -> dict[tuple[str, str], dict]:
    names = [c.name for c in columns]
    values = collect(dataset_chunks(dataset, {n: n for n in names}), names, lambda rows: None)
    made = {}
    for column in columns:
        summary = summarise(values.column(column.name), column.kind).as_json()
        made[(column.name, str(column.kind))] = summary
        try:
            with transaction.atomic():
                ReferenceColumn.objects.create(
                    dataset=dataset, column=column.name, kind=column.kind, summary=summary
                )
        except IntegrityError:
            pass  # another report stored the same summary first
    return made
