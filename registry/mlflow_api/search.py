"""MLflow's run search (the ``filter`` and ``order_by`` of ``runs/search``) as querysets.

``filter_grammar`` reads the text (its docstring has the syntax); here each clause becomes one
``Exists`` subquery or plain ``Q`` (runs are never loaded to filter them), and each order_by
item an ordering on the run's field or on a subquery, runs lacking the value last.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import NotSupportedError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Exists, F, Lookup, OrderBy, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import Combinable
from django.db.models.functions import Upper
from django.db.models.sql.compiler import SQLCompiler

from registry.experiments.models import MetricSummary, Param, Run, RunStatus, RunTag
from registry.mlflow_api.filter_grammar import (
    ATTRIBUTE_FIELDS,
    RUN_NAME_TAG,
    Clause,
    FilterError,
    Kind,
    parse_filter,
    parse_order,
)

MAX_ORDER_ITEMS = 10
NEGATED = {"!=": "=", "NOT IN": "IN"}  # each operator that is the negation of another
# MLflow's run statuses; SCHEDULED has no Handoff counterpart.
MLFLOW_STATUSES = {status.upper(): status for status in RunStatus.values}
_RUN_ID = re.compile(r"[1-9][0-9]{0,17}")  # fits a 64-bit integer
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
_FIRST_MS = (datetime(1, 1, 1, tzinfo=UTC) - _EPOCH) // _MILLISECOND
_LAST_MS = (datetime(9999, 12, 31, tzinfo=UTC) - _EPOCH) // _MILLISECOND
_GLOB = str.maketrans({"%": "*", "_": "?", "*": "[*]", "?": "[?]", "[": "[[]"})


# Public -------------------------------------------------------------------------------------


def filtered_runs(runs: QuerySet[Run], text: str) -> QuerySet[Run]:
    """``runs`` narrowed by an MLflow filter (all of them when it is blank); FilterError when
    the filter is not valid."""
    for clause in parse_filter(text):
        runs = runs.filter(_condition(clause))
    return runs


def ordered_runs(runs: QuerySet[Run], order_by: Sequence[str]) -> QuerySet[Run]:
    """``runs`` in MLflow's ``order_by`` order, then newest first; FilterError naming the item
    (``order_by[1]``) when one is not valid."""
    items = [order_by] if isinstance(order_by, str) else list(order_by)
    if len(items) > MAX_ORDER_ITEMS:
        raise FilterError(
            f"order_by[{MAX_ORDER_ITEMS}]", 0, f"no more items: at most {MAX_ORDER_ITEMS}"
        )
    keys: list[OrderBy] = []
    seen: set[tuple[Kind, str]] = set()
    for index, item in enumerate(items):
        field = f"order_by[{index}]"
        kind, key, descending = parse_order(item, field)
        if (kind, key) in seen:
            raise FilterError(field, 0, "a field not already in order_by")
        seen.add((kind, key))
        value = _order_value(kind, key)
        keys.append(value.desc(nulls_last=True) if descending else value.asc(nulls_last=True))
    return runs.order_by(*keys, "-started_at", "-pk")


# Conditions ---------------------------------------------------------------------------------


def _condition(clause: Clause) -> Q | Exists:
    if clause.kind == "metric":
        return _metric(clause.key, clause.op, clause.number)
    if clause.kind == "attribute":
        return _attribute_condition(clause)
    if clause.kind == "tag" and clause.key == RUN_NAME_TAG:
        return _run_name(clause.op, clause.strings)
    model: type[Param] | type[RunTag] = Param if clause.kind == "param" else RunTag
    rows = model.objects.filter(run=OuterRef("pk"), key=clause.key)
    if clause.op == "IS NULL":
        return ~Q(Exists(rows))
    if clause.op == "IS NOT NULL":
        return Exists(rows)
    return Exists(rows.filter(_text("value", clause.op, clause.strings)))


def _metric(key: str, op: str, value: float) -> Exists:
    summaries = MetricSummary.objects.filter(run=OuterRef("pk"), key=key)
    if op == "!=":  # the run has the metric, with another value
        return Exists(summaries.exclude(last=value))
    lookup = {"=": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}[op]
    return Exists(summaries.filter(**{f"last__{lookup}": value}))


def _text(field: str, op: str, values: tuple[str, ...], lhs: Combinable | None = None) -> Q:
    """``field`` (or the expression ``lhs``) compared with a string or a list of them."""
    if op in ("LIKE", "ILIKE"):
        like = _Like if op == "LIKE" else _ILike
        return Q(like(F(field) if lhs is None else lhs, values[0]))
    found = Q(**{f"{field}__in": values})  # an empty list finds nothing
    return ~found if op in NEGATED else found


def _attribute_condition(clause: Clause) -> Q:
    key, op, values = clause.key, clause.op, clause.strings
    if key in ("start_time", "end_time"):
        return _instant(ATTRIBUTE_FIELDS[key], op, clause.number)
    if key == "status":  # LIKE compares MLflow's upper-case name
        statuses = tuple(MLFLOW_STATUSES[v] for v in values if v in MLFLOW_STATUSES)
        like = op in ("LIKE", "ILIKE")
        return _text("status", op, values if like else statuses, Upper("status"))
    if key == "run_id":
        return _text("pk", op, tuple(v for v in values if _RUN_ID.fullmatch(v)))
    return _text(ATTRIBUTE_FIELDS[key], op, values)


def _run_name(op: str, values: tuple[str, ...]) -> Q:
    """``tags.mlflow.runName``: Handoff keeps the run name in Run.name; a client may also have
    logged it as a tag. A run has a name when either matches; != and NOT IN negate that."""
    tags = RunTag.objects.filter(run=OuterRef("pk"), key=RUN_NAME_TAG)
    if op in ("IS NULL", "IS NOT NULL"):
        named = ~Q(name="") | Q(Exists(tags))
        return named if op == "IS NOT NULL" else ~named
    positive = NEGATED.get(op, op)
    found = _text("name", positive, values) | Q(
        Exists(tags.filter(_text("value", positive, values)))
    )
    return ~found if positive != op else found


def _instant(field: str, op: str, value: float) -> Q:
    """MLflow's milliseconds: ``field`` truncated to whole milliseconds, m, compared with
    ``value``; each comparison of m becomes a bound on the field itself."""
    # m >= value ⟺ m >= low; m > value ⟺ m >= high; m <= value ⟺ m < high
    low, high = math.ceil(value), math.floor(value) + 1
    if op == ">=":
        return Q(**{f"{field}__gte": _moment(low)})
    if op == ">":
        return Q(**{f"{field}__gte": _moment(high)})
    if op == "<":
        return Q(**{f"{field}__lt": _moment(low)})
    if op == "<=":
        return Q(**{f"{field}__lt": _moment(high)})
    if op == "=":  # nothing when value is not whole: then low == high
        return Q(**{f"{field}__gte": _moment(low), f"{field}__lt": _moment(high)})
    # != also leaves out runs without the time (a running run's end), as MLflow does.
    return Q(**{f"{field}__lt": _moment(low)}) | Q(**{f"{field}__gte": _moment(high)})


def _moment(milliseconds: int) -> datetime:
    """The instant, clamped to the years 1-9999 (no run is that old or that far ahead)."""
    return _EPOCH + _MILLISECOND * min(max(milliseconds, _FIRST_MS), _LAST_MS)


class _Like(Lookup):
    """``lhs LIKE pattern`` keeping case, ``%`` and ``_`` the only special characters. Built
    directly, never registered as a lookup."""

    lookup_name = "mlflow_like"
    prepare_rhs = False
    # SQLite's LIKE ignores ASCII case, its GLOB keeps it; PostgreSQL's LIKE would read \ as
    # an escape character without ESCAPE ''.
    operators = {"sqlite": "GLOB %s", "postgresql": "LIKE %s ESCAPE ''"}

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> Any:
        operator = self.operators.get(connection.vendor)
        if operator is None:
            raise NotSupportedError(f"MLflow's LIKE is not written for {connection.vendor}.")
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} {operator}", [*params, self.pattern(connection.vendor)]

    def pattern(self, vendor: str) -> str:
        # GLOB's wildcards are * and ?, and [ opens a set of characters.
        return str(self.rhs).translate(_GLOB) if vendor == "sqlite" else str(self.rhs)


class _ILike(_Like):
    """``lhs ILIKE pattern``: as _Like, folding case."""

    lookup_name = "mlflow_ilike"
    # Without ESCAPE, SQLite's LIKE has no escape character.
    operators = {"sqlite": "LIKE %s", "postgresql": "ILIKE %s ESCAPE ''"}

    def pattern(self, vendor: str) -> str:
        return str(self.rhs)


# Ordering -----------------------------------------------------------------------------------


def _order_value(kind: Kind, key: str) -> F | Subquery:
    if kind == "attribute":
        return F(ATTRIBUTE_FIELDS[key])
    if kind == "metric":
        summaries = MetricSummary.objects.filter(run=OuterRef("pk"), key=key).order_by()
        return Subquery(summaries.values("last")[:1])
    model: type[Param] | type[RunTag] = Param if kind == "param" else RunTag
    return Subquery(model.objects.filter(run=OuterRef("pk"), key=key).values("value")[:1])
