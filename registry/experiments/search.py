"""The run search language, parsed into clauses. Pure: no Django.

    metrics.accuracy > 0.9 and params.lr = 0.01 and tags.stage = 'sweep' and status = 'finished'

Clauses are joined by ``and`` (any case). The left side is one of:

- ``metrics.<key>``: the metric's last value, compared with a number by = != < <= > >=;
- ``params.<key>``: the param's text, = or != a quoted string or a bare number (compared as
  the text written: ``0.01`` matches a param logged as "0.01", not "1e-2");
- ``tags.<key>``: the tag's text, = or != a quoted string;
- ``status`` (one of the run statuses) or ``name``: = or != a quoted string.

A key is bare (letters, digits and ``_ - . / :``) or in backquotes when it holds a space:
``metrics.`val loss```. Strings are in '…' or "…"; the quote itself is written twice inside.
Errors name the 0-based offset into the text and what was expected there.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

MAX_LENGTH = 2_000
MAX_CLAUSES = 20
STATUSES = ("running", "finished", "failed", "killed")
OPERATORS = ("<=", ">=", "!=", "=", "<", ">")  # the two-character ones first
TEXT_OPERATORS = ("=", "!=")

Kind = Literal["metric", "param", "tag", "attribute"]
PREFIXES: dict[str, Kind] = {"metrics.": "metric", "params.": "param", "tags.": "tag"}
ATTRIBUTES = ("status", "name")
ORDER_ATTRIBUTES = ("name", "started_at", "status")

_SPACE = re.compile(r"\s*")
_BARE_KEY = re.compile(r"[A-Za-z0-9_\-./:]+")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"[A-Za-z_]+")
_AND = re.compile(r"and\b", re.IGNORECASE)
_DIRECTION = re.compile(r"(asc|desc)\b", re.IGNORECASE)


class SearchError(ValueError):
    """Where the text stopped making sense, and what was expected there."""

    def __init__(self, field: str, position: int, expected: str) -> None:
        super().__init__(f"{field}: at {position}, expected {expected}")
        self.field, self.position, self.expected = field, position, expected


@dataclass(frozen=True)
class Clause:
    kind: Kind
    key: str  # the metric, param or tag key, or the attribute's name
    op: str
    value: float | str


@dataclass(frozen=True)
class Order:
    kind: Literal["metric", "attribute"]
    key: str
    descending: bool


class _Reader:
    def __init__(self, text: str, field: str) -> None:
        self.text, self.field, self.at = text, field, 0

    def skip_space(self) -> None:
        self.at = _SPACE.match(self.text, self.at).end()  # type: ignore[union-attr]

    def done(self) -> bool:
        self.skip_space()
        return self.at >= len(self.text)

    def match(self, pattern: re.Pattern[str]) -> str | None:
        self.skip_space()
        found = pattern.match(self.text, self.at)
        if found is None:
            return None
        self.at = found.end()
        return found.group()

    def fail(self, expected: str) -> SearchError:
        return SearchError(self.field, self.at, expected)

    def key(self, prefix: str) -> str:
        if self.text.startswith("`", self.at):
            end = self.text.find("`", self.at + 1)
            if end <= self.at + 1:
                raise self.fail(f"a key in backquotes after {prefix!r}")
            key, self.at = self.text[self.at + 1 : end], end + 1
            return key
        found = _BARE_KEY.match(self.text, self.at)
        if found is None:
            raise self.fail(f"a key after {prefix!r}")
        self.at = found.end()
        return found.group()

    def string(self) -> str | None:
        self.skip_space()
        quote = self.text[self.at : self.at + 1]
        if quote not in ("'", '"'):
            return None
        start, parts, at = self.at, [], self.at + 1
        while True:
            end = self.text.find(quote, at)
            if end < 0:
                self.at = start
                raise self.fail(f"a closing {quote} for the string that starts here")
            parts.append(self.text[at:end])
            if self.text.startswith(quote, end + 1):  # a doubled quote stands for itself
                parts.append(quote)
                at = end + 2
                continue
            self.at = end + 1
            return "".join(parts)


def parse_filter(text: str) -> list[Clause]:
    """The clauses of ``text`` (none when it is blank); SearchError when it is not valid."""
    if len(text) > MAX_LENGTH:
        raise SearchError(
            "filter", MAX_LENGTH, f"the end: a filter is at most {MAX_LENGTH:,} characters"
        )
    reader = _Reader(text, "filter")
    clauses: list[Clause] = []
    if reader.done():
        return clauses
    while True:
        if len(clauses) == MAX_CLAUSES:
            raise reader.fail(f"the end: a filter has at most {MAX_CLAUSES} clauses")
        clauses.append(_clause(reader))
        if reader.done():
            return clauses
        if reader.match(_AND) is None:
            raise reader.fail("'and' or the end of the filter")


def _left(reader: _Reader) -> tuple[Kind, str]:
    reader.skip_space()
    for prefix, kind in PREFIXES.items():
        if reader.text.startswith(prefix, reader.at):
            reader.at += len(prefix)
            return kind, reader.key(prefix)
    start = reader.at
    word = reader.match(_WORD)
    if word in ATTRIBUTES:
        return "attribute", word
    reader.at = start
    raise reader.fail("metrics.<key>, params.<key>, tags.<key>, status or name")


def _clause(reader: _Reader) -> Clause:
    kind, key = _left(reader)
    reader.skip_space()
    op = next((op for op in OPERATORS if reader.text.startswith(op, reader.at)), None)
    if op is None:
        raise reader.fail("a comparison operator (= != < <= > >=)")
    if kind != "metric" and op not in TEXT_OPERATORS:
        raise reader.fail(f"= or != ({_noun(kind, key)} compare as text)")
    reader.at += len(op)
    if kind == "metric":
        return Clause(kind, key, op, _number(reader))
    reader.skip_space()
    start = reader.at
    value = reader.string()
    if value is None and kind == "param":
        value = reader.match(_NUMBER)
        if value is None:
            raise reader.fail("a quoted string or a number")
    elif value is None:
        raise reader.fail("a quoted string")
    if kind == "attribute" and key == "status" and value not in STATUSES:
        reader.at = start
        raise reader.fail(f"a status: one of {', '.join(STATUSES)}")
    return Clause(kind, key, op, value)


def _number(reader: _Reader) -> float:
    reader.skip_space()
    start = reader.at
    text = reader.match(_NUMBER)
    if text is None or not math.isfinite(float(text)):
        reader.at = start
        raise reader.fail("a number")
    return float(text)


def _noun(kind: Kind, key: str) -> str:
    return {"param": "params", "tag": "tags"}.get(kind, key)


def parse_order(text: str) -> Order | None:
    """``metrics.<key> [ASC|DESC]`` or ``name``/``started_at``/``status`` [ASC|DESC]."""
    if len(text) > MAX_LENGTH:
        raise SearchError("order_by", MAX_LENGTH, f"the end: at most {MAX_LENGTH:,} characters")
    reader = _Reader(text, "order_by")
    if reader.done():
        return None
    order = _order_target(reader)
    direction = reader.match(_DIRECTION)
    if not reader.done():
        raise reader.fail("ASC, DESC or the end" if direction is None else "the end")
    descending = direction is not None and direction.lower() == "desc"
    return Order(order[0], order[1], descending)


def _order_target(reader: _Reader) -> tuple[Literal["metric", "attribute"], str]:
    reader.skip_space()
    if reader.text.startswith("metrics.", reader.at):
        reader.at += len("metrics.")
        return "metric", reader.key("metrics.")
    start = reader.at
    word = reader.match(_WORD)
    if word in ORDER_ATTRIBUTES:
        return "attribute", word
    reader.at = start
    raise reader.fail("metrics.<key>, " + ", ".join(ORDER_ATTRIBUTES))
