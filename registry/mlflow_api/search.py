"""MLflow's run search dialect (the ``filter`` and ``order_by`` of ``runs/search``) as querysets.

    metrics.accuracy > 0.9 AND params.model IN ('xgb', 'lgbm') AND tags.`mlflow.runName` LIKE 'a%'

What MLflow's SearchUtils accepts, read by a small parser of our own rather than sqlparse, so
an error names the 0-based offset and what was expected there:

- Clauses are joined by ``AND`` (any case); there is no ``OR`` and there are no parentheses.
- An identifier is ``<entity>.<key>``. Entities: ``metric``/``metrics``, ``param``/``params``/
  ``parameter``/``parameters``, ``tag``/``tags``, ``attribute``/``attributes``/``attr``/``run``;
  a bare name is an attribute (``status``). A key is bare (letters, digits and ``_ - . / :``)
  or in backquotes or double quotes when it holds anything else: ``metrics."val loss"``.
- A string is in '…' or "…". Inside, its quote is written twice (``'it''s'``) or after a
  backslash (``'it\\'s'``); ``\\\\`` is one backslash and any other backslash stands for itself.
- ``metrics.<key>`` (the last value): = != > >= < <= a number.
- ``params.<key>``, ``tags.<key>``: = != LIKE ILIKE a string, IN / NOT IN a parenthesised list
  of strings, IS NULL / IS NOT NULL. As in MLflow, a run without the key or metric matches
  only IS NULL (so neither ``= 'x'`` nor ``!= 'x'``).
- Attributes: ``status`` (MLflow's RUNNING, FINISHED, FAILED, KILLED, compared case-sensitively;
  SCHEDULED matches nothing), ``run_name`` and ``user_id`` (the username): = != LIKE ILIKE a
  string, IN / NOT IN a list; ``run_id`` (the pk in decimal; any other text matches nothing):
  = != IN NOT IN; ``start_time``, ``end_time``: = != > >= < <= a number of milliseconds since
  the epoch, the run's time truncated to the millisecond as MLflow reports it (a run that has
  not ended has no end_time and matches no end_time clause). Aliases: ``created`` (start_time)
  and ``"run name"`` (run_name). ``tags.mlflow.runName`` is the run's name, or a tag of that key.
- LIKE and ILIKE: ``%`` is any run of characters and ``_`` any one character; there is no escape
  character (as in MLflow on SQLite), every other character is itself. LIKE keeps case, ILIKE
  folds it (on SQLite, ASCII letters only, as MLflow's SQLite store). They compile to SQL LIKE
  (GLOB on SQLite, whose LIKE ignores case), not to a regular expression: SQLite runs REGEXP in
  Python's backtracking ``re``, where a dozen '%a' then '%b' against 60 a's runs for more than
  20 seconds, while both databases match LIKE patterns without such blow-ups.

``order_by`` is a list of at most 10 items, each ``<identifier> [ASC|DESC]`` (ASC unless said),
no field twice: metrics, params and tags by key, or the attributes above (``start_time`` alone
is an attribute; ``tags.mlflow.runName`` is run_name). Runs lacking the value come last either
way (as in MLflow's SQL store); ties fall to start_time DESC, then the pk DESC.

Each clause is one ``Exists`` subquery or plain ``Q``: runs are never loaded to filter them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from django.db import NotSupportedError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Exists, F, Lookup, OrderBy, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import Combinable
from django.db.models.functions import Upper
from django.db.models.sql.compiler import SQLCompiler

from registry.experiments.models import MetricSummary, Param, Run, RunStatus, RunTag

MAX_LENGTH = 2_000
MAX_CLAUSES = 20
MAX_ORDER_ITEMS = 10

Kind = Literal["metric", "param", "tag", "attribute"]
ENTITIES: dict[str, Kind] = {
    **dict.fromkeys(("metric", "metrics"), "metric"),
    **dict.fromkeys(("param", "params", "parameter", "parameters"), "param"),
    **dict.fromkeys(("tag", "tags"), "tag"),
    **dict.fromkeys(("attribute", "attributes", "attr", "run"), "attribute"),
}
# MLflow's attribute name → the Run field it reads.
ATTRIBUTE_FIELDS = {
    "status": "status",
    "run_name": "name",
    "run_id": "pk",
    "user_id": "user__username",
    "start_time": "started_at",
    "end_time": "ended_at",
}
ATTRIBUTE_ALIASES = {"created": "start_time", "Created": "start_time"} | dict.fromkeys(
    ("run name", "Run name", "Run Name"), "run_name"
)
NUMERIC_OPERATORS = ("=", "!=", ">", ">=", "<", "<=")
TEXT_OPERATORS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
KEY_OPERATORS = (*TEXT_OPERATORS, "IS NULL", "IS NOT NULL")
ID_OPERATORS = ("=", "!=", "IN", "NOT IN")
NEGATED = {"!=": "=", "NOT IN": "IN"}  # each operator that is the negation of another
# MLflow's run statuses; SCHEDULED has no Handoff counterpart.
MLFLOW_STATUSES = {status.upper(): status for status in RunStatus.values}
RUN_NAME_TAG = "mlflow.runName"

_SPACE = re.compile(r"\s*")
_NAME = re.compile(r"[A-Za-z_]+")
_BARE_KEY = re.compile(r"[A-Za-z0-9_\-./:]+")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_SYMBOL = re.compile(r"<=|>=|!=|=|<|>")
_WORD_OPERATOR = re.compile(r"(?:not\s+in|in|like|ilike|is\s+not\s+null|is\s+null)\b", re.I)
_AND = re.compile(r"and\b", re.IGNORECASE)
_OR = re.compile(r"or\b", re.IGNORECASE)
_DIRECTION = re.compile(r"(?:asc|desc)\b", re.IGNORECASE)
_RUN_ID = re.compile(r"[1-9][0-9]{0,17}")  # fits a 64-bit integer
_IDENTIFIER = "an identifier: metrics.<key>, params.<key>, tags.<key> or attributes.<name>"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
_FIRST_MS = (datetime(1, 1, 1, tzinfo=UTC) - _EPOCH) // _MILLISECOND
_LAST_MS = (datetime(9999, 12, 31, tzinfo=UTC) - _EPOCH) // _MILLISECOND
_GLOB = str.maketrans({"%": "*", "_": "?", "*": "[*]", "?": "[?]", "[": "[[]"})


class FilterError(ValueError):
    """Where a filter or order_by item stopped making sense, and what was expected there."""

    def __init__(self, field: str, position: int, expected: str) -> None:
        super().__init__(f"{field}: at {position}, expected {expected}")
        self.field, self.position, self.expected = field, position, expected


@dataclass(frozen=True)
class _Clause:
    kind: Kind
    key: str  # the metric, param or tag key, or the attribute's MLflow name
    op: str  # upper case, one space between words: "NOT IN"
    number: float = 0.0  # the value of a metric or time clause
    strings: tuple[str, ...] = ()  # the string, or the IN list


# Public -------------------------------------------------------------------------------------


def filtered_runs(runs: QuerySet[Run], text: str) -> QuerySet[Run]:
    """``runs`` narrowed by an MLflow filter (all of them when it is blank); FilterError when
    the filter is not valid."""
    for clause in _parse_filter(text):
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
        kind, key, descending = _parse_order(item, field)
        if (kind, key) in seen:
            raise FilterError(field, 0, "a field not already in order_by")
        seen.add((kind, key))
        value = _order_value(kind, key)
        keys.append(value.desc(nulls_last=True) if descending else value.asc(nulls_last=True))
    return runs.order_by(*keys, "-started_at", "-pk")


# Reading ------------------------------------------------------------------------------------


class _Reader:
    def __init__(self, text: str, field: str) -> None:
        self.text, self.field, self.at = text, field, 0
        if len(text) > MAX_LENGTH:
            raise FilterError(field, MAX_LENGTH, f"the end: at most {MAX_LENGTH:,} characters")
        if "\x00" in text:  # PostgreSQL refuses NUL in text
            raise FilterError(field, text.index("\x00"), "a character other than NUL")

    def fail(self, expected: str, at: int | None = None) -> FilterError:
        return FilterError(self.field, self.at if at is None else at, expected)

    def skip_space(self) -> None:
        self.at = _SPACE.match(self.text, self.at).end()  # type: ignore[union-attr]

    def done(self) -> bool:
        self.skip_space()
        return self.at >= len(self.text)

    def startswith(self, prefix: str | tuple[str, ...]) -> bool:
        return self.text.startswith(prefix, self.at)

    def match(self, pattern: re.Pattern[str]) -> str | None:
        """The text ``pattern`` matches right here (no space skipped), consumed."""
        found = pattern.match(self.text, self.at)
        if found is None:
            return None
        self.at = found.end()
        return found.group()

    def string(self) -> str | None:
        """A '…' or "…" string after any space, or None when no quote comes next."""
        self.skip_space()
        return self.quoted("'\"")

    def quoted(self, quotes: str) -> str | None:
        quote = self.text[self.at : self.at + 1]
        if not quote or quote not in quotes:
            return None
        start, chars, at = self.at, [], self.at + 1
        while at < len(self.text):
            char, after = self.text[at], self.text[at + 1 : at + 2]
            if (char == "\\" and after in (quote, "\\")) or (char == quote == after):
                chars.append(after)
                at += 2
            elif char == quote:
                self.at = at + 1
                return "".join(chars)
            else:
                chars.append(char)
                at += 1
        raise self.fail(f"a closing {quote} for the string that starts here", start)


def _parse_filter(text: str) -> list[_Clause]:
    reader = _Reader(text, "filter")
    clauses: list[_Clause] = []
    if reader.done():
        return clauses
    while True:
        if len(clauses) == MAX_CLAUSES:
            reader.skip_space()
            raise reader.fail(f"the end: a filter has at most {MAX_CLAUSES} clauses")
        clauses.append(_clause(reader))
        if reader.done():
            return clauses
        if reader.match(_AND) is None:
            at = reader.at
            if reader.match(_OR) is not None:
                raise reader.fail("AND or the end of the filter (OR is not supported)", at)
            raise reader.fail("AND or the end of the filter")


def _identifier(reader: _Reader) -> tuple[Kind, str]:
    reader.skip_space()
    start = reader.at
    name = reader.match(_NAME)
    if name is None:
        raise reader.fail(_IDENTIFIER)
    if not reader.startswith("."):
        return "attribute", _attribute(reader, name, start)
    kind = ENTITIES.get(name)
    if kind is None:
        raise reader.fail(f"an entity: metrics, params, tags or attributes, not {name!r}", start)
    reader.at += 1
    key_at = reader.at
    key = reader.quoted('`"') if reader.startswith(("`", '"')) else reader.match(_BARE_KEY)
    if not key:
        raise reader.fail(f"a key after '{name}.'", key_at)
    return kind, _attribute(reader, key, key_at) if kind == "attribute" else key


def _attribute(reader: _Reader, name: str, at: int) -> str:
    name = ATTRIBUTE_ALIASES.get(name, name)
    if name not in ATTRIBUTE_FIELDS:
        raise reader.fail(f"{_IDENTIFIER} ({', '.join(ATTRIBUTE_FIELDS)})", at)
    return name


def _operators(kind: Kind, key: str) -> tuple[tuple[str, ...], str]:
    """The operators an identifier takes, and how an error names it."""
    if kind == "metric":
        return NUMERIC_OPERATORS, "metrics"
    if kind != "attribute":
        return KEY_OPERATORS, f"{kind}s"
    if key in ("start_time", "end_time"):
        return NUMERIC_OPERATORS, key
    return (ID_OPERATORS if key == "run_id" else TEXT_OPERATORS), key


def _clause(reader: _Reader) -> _Clause:
    kind, key = _identifier(reader)
    allowed, noun = _operators(kind, key)
    reader.skip_space()
    at = reader.at
    found = reader.match(_SYMBOL) or reader.match(_WORD_OPERATOR)
    op = " ".join(found.upper().split()) if found else ""
    if op not in allowed:
        raise reader.fail(f"an operator for {noun}: {' '.join(allowed)}", at)
    if op in ("IS NULL", "IS NOT NULL"):
        return _Clause(kind, key, op)
    if op in ("IN", "NOT IN"):
        return _Clause(kind, key, op, strings=_list(reader))
    if allowed == NUMERIC_OPERATORS:
        return _Clause(kind, key, op, number=_number(reader))
    value = reader.string()
    if value is None:
        raise reader.fail("a quoted string")
    return _Clause(kind, key, op, strings=(value,))


def _number(reader: _Reader) -> float:
    reader.skip_space()
    start = reader.at
    text = reader.match(_NUMBER)
    if text is None or not math.isfinite(float(text)):
        raise reader.fail("a number", start)
    return float(text)


def _list(reader: _Reader) -> tuple[str, ...]:
    reader.skip_space()
    if not reader.startswith("("):
        raise reader.fail("a parenthesised list of quoted strings: ('a', 'b')")
    reader.at += 1
    values = []
    while True:
        value = reader.string()
        if value is None:
            raise reader.fail("a quoted string")
        values.append(value)
        reader.skip_space()
        if reader.startswith(")"):
            reader.at += 1
            return tuple(values)
        if not reader.startswith(","):
            raise reader.fail("',' or ')'")
        reader.at += 1


def _parse_order(item: object, field: str) -> tuple[Kind, str, bool]:
    if not isinstance(item, str):
        raise FilterError(field, 0, "a string")
    reader = _Reader(item, field)
    kind, key = _identifier(reader)
    reader.skip_space()
    direction = reader.match(_DIRECTION)
    if not reader.done():
        raise reader.fail("ASC, DESC or the end" if direction is None else "the end")
    if kind == "tag" and key == RUN_NAME_TAG:
        kind, key = "attribute", "run_name"
    return kind, key, direction is not None and direction.lower() == "desc"


# Conditions ---------------------------------------------------------------------------------


def _condition(clause: _Clause) -> Q | Exists:
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


def _attribute_condition(clause: _Clause) -> Q:
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
