"""MLflow's run search dialect (the ``filter`` and ``order_by`` of ``runs/search``), parsed
into clauses. Pure: no Django (``search`` turns the clauses into querysets).

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
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

MAX_LENGTH = 2_000
MAX_CLAUSES = 20

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
_IDENTIFIER = "an identifier: metrics.<key>, params.<key>, tags.<key> or attributes.<name>"


class FilterError(ValueError):
    """Where a filter or order_by item stopped making sense, and what was expected there."""

    def __init__(self, field: str, position: int, expected: str) -> None:
        super().__init__(f"{field}: at {position}, expected {expected}")
        self.field, self.position, self.expected = field, position, expected


@dataclass(frozen=True)
class Clause:
    kind: Kind
    key: str  # the metric, param or tag key, or the attribute's MLflow name
    op: str  # upper case, one space between words: "NOT IN"
    number: float = 0.0  # the value of a metric or time clause
    strings: tuple[str, ...] = ()  # the string, or the IN list


# Parsing ------------------------------------------------------------------------------------


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


def parse_filter(text: str) -> list[Clause]:
    reader = _Reader(text, "filter")
    clauses: list[Clause] = []
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


def _clause(reader: _Reader) -> Clause:
    kind, key = _identifier(reader)
    allowed, noun = _operators(kind, key)
    reader.skip_space()
    at = reader.at
    found = reader.match(_SYMBOL) or reader.match(_WORD_OPERATOR)
    op = " ".join(found.upper().split()) if found else ""
    if op not in allowed:
        raise reader.fail(f"an operator for {noun}: {' '.join(allowed)}", at)
    if op in ("IS NULL", "IS NOT NULL"):
        return Clause(kind, key, op)
    if op in ("IN", "NOT IN"):
        return Clause(kind, key, op, strings=_list(reader))
    if allowed == NUMERIC_OPERATORS:
        return Clause(kind, key, op, number=_number(reader))
    value = reader.string()
    if value is None:
        raise reader.fail("a quoted string")
    return Clause(kind, key, op, strings=(value,))


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


def parse_order(item: object, field: str) -> tuple[Kind, str, bool]:
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
