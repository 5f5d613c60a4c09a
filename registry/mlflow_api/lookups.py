"""Rows by the ids MLflow clients send: decimal text. Anything else (other digits, a number
past the database's integers) matches nothing rather than failing the query."""

from __future__ import annotations

from registry.experiments.models import Experiment, Run

MAX_ID = 2**63 - 1  # a bigint primary key
MAX_NUMBER = 2**31 - 1  # a version's number (an integer column)


def as_id(text: object, most: int = MAX_ID) -> int | None:
    """``text`` as a row id (or a version number, with ``most``), or None when it cannot be."""
    text = str(text)
    if not (text.isascii() and text.isdecimal()) or len(text) > 19:
        return None
    number = int(text)
    return number if 0 < number <= most else None


def experiment_numbered(text: str) -> Experiment | None:
    pk = as_id(text)
    return Experiment.objects.select_related("team").filter(pk=pk).first() if pk else None


def run_numbered(text: str) -> Run | None:
    pk = as_id(text)
    return Run.objects.select_related("experiment__team").filter(pk=pk).first() if pk else None
