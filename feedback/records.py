"""Checking the records of a batch one by one, naming each bad one by index and reason.

Every ingest endpoint (predictions, feedback, outcomes) takes one record or a list of up
to 10,000; a malformed record is rejected on its own while the others are stored.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import orjson

from portal.text import find_unstorable, unstorable_char
from registry.models import ModelVersion, RegisteredModel

MAX_RECORDS = 10_000
MAX_ID = 200
MAX_REPORTED = 100  # rejected records named in an answer; the count covers them all
# A time this far ahead of the server's clock is a client's clock gone wrong.
MAX_FUTURE = timedelta(days=1)

T = TypeVar("T")

# Set while checking the records of a body whose bytes were already shown to hold no text
# PostgreSQL cannot store and no number it cannot (``portal.api.parsers``): each value need
# not be walked again.
_TEXT_CHECKED: ContextVar[bool] = ContextVar("text_checked", default=False)
# ISO 8601 as PostgreSQL reads it too; other spellings Python accepts are sent re-written.
PLAIN_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$")


@contextmanager
def text_already_checked(checked: bool) -> Iterator[None]:
    """Within: ``obj`` trusts that no value holds a NUL or a lone surrogate."""
    token = _TEXT_CHECKED.set(checked)
    try:
        yield
    finally:
        _TEXT_CHECKED.reset(token)


class Reject(Exception):
    """One record is not acceptable; the message says why (the index is added later)."""


@dataclass
class Outcome:
    """How a batch went: counts, and the rejected records by index."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": len(self.rejected),
            "errors": [
                {"index": index, "reason": reason} for index, reason in self.rejected[:MAX_REPORTED]
            ],
        }


def as_list(body: Any) -> list[Any]:
    """One record or a list of them; Reject when it is neither or too many."""
    if isinstance(body, dict):
        return [body]
    if isinstance(body, list):
        if not body:
            raise Reject("the list is empty: send one record or up to 10,000")
        if len(body) > MAX_RECORDS:
            raise Reject(f"at most {MAX_RECORDS:,} records a request, not {len(body):,}")
        return body
    raise Reject("send one record (an object) or a list of up to 10,000")


def checked(
    records: Sequence[Any], check: Callable[[dict[str, Any]], T], outcome: Outcome, start: int = 0
) -> list[tuple[int, T]]:
    """Each record ``check`` accepts, with its index (counted from ``start``, for a slice of
    a batch); the others land in ``outcome``."""
    good: list[tuple[int, T]] = []
    for index, raw in enumerate(records, start):
        try:
            if not isinstance(raw, dict):
                raise Reject("a record is an object")
            good.append((index, check(raw)))
        except Reject as reason:
            outcome.rejected.append((index, str(reason)))
    return good


def text(raw: dict[str, Any], name: str, *, required: bool = True, longest: int = MAX_ID) -> str:
    value = raw.get(name)
    if value is None or value == "":
        if required:
            raise Reject(f"{name}: required")
        return ""
    if not isinstance(value, str):
        raise Reject(f"{name}: a string")
    if len(value) > longest:
        raise Reject(f"{name}: at most {longest:,} characters")
    if problem := unstorable_char(value):
        raise Reject(f"{name}: {problem}")
    return value


def number(raw: dict[str, Any], name: str, *, required: bool = False) -> float | None:
    value = raw.get(name)
    if value is None:
        if required:
            raise Reject(f"{name}: required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Reject(f"{name}: a number")
    try:
        result = float(value)
    except OverflowError:
        raise Reject(f"{name}: a finite number") from None
    if not math.isfinite(result):
        raise Reject(f"{name}: a finite number")
    return result


def obj(raw: dict[str, Any], name: str, *, required: bool = False) -> dict[str, Any]:
    value = raw.get(name)
    if value is None:
        if required:
            raise Reject(f"{name}: required (a JSON object)")
        return {}
    if not isinstance(value, dict):
        raise Reject(f"{name}: a JSON object")
    if not _TEXT_CHECKED.get():
        if problem := find_unstorable(value):
            raise Reject(f"{name}: {problem}")
        if problem := _unstorable_number(value):
            raise Reject(f"{name}: {problem}")
    return value


def _unstorable_number(value: Any) -> str | None:
    """A number PostgreSQL's JSON cannot hold (infinity, NaN) anywhere inside ``value``."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return "holds a number too large to store"
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def moment(raw: dict[str, Any], name: str, now: datetime) -> datetime:
    """An ISO 8601 time with its offset (``2026-11-30T10:00:00Z``); now when left out."""
    value = raw.get(name)
    if value is None:
        return now
    if not isinstance(value, str):
        raise Reject(f"{name}: an ISO 8601 time such as 2026-11-30T10:00:00Z")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Reject(f"{name}: {value[:40]!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise Reject(f"{name}: give the offset too (Z for UTC)")
    if parsed > now + MAX_FUTURE or parsed.year < 2000:
        raise Reject(f"{name}: {value[:40]} is too far from now")
    return parsed


def unknown_fields(raw: dict[str, Any], known: frozenset[str]) -> None:
    extra = [name for name in raw if name not in known]
    if extra:
        # Escaped, so a name holding a lone surrogate cannot break the answer's JSON.
        named = sorted(str(name)[:40].encode(errors="backslashreplace").decode() for name in extra)
        raise Reject(f"unknown field {', '.join(named)}; a record takes {', '.join(sorted(known))}")


class Models:
    """The models (and versions) a batch names, read in one query each, with the key's own
    model standing in when a record leaves its model out."""

    def __init__(self, names: Iterable[str], default: RegisteredModel | None) -> None:
        self.default = default
        storable = {name for name in names if len(name) <= MAX_ID and not unstorable_char(name)}
        named = RegisteredModel.objects.filter(name__in=storable).order_by()
        self.by_name = {m.name: m for m in named}
        if default is not None:
            self.by_name.setdefault(default.name, default)

    def named(self, records: Sequence[Any]) -> list[RegisteredModel]:
        """Every model the records name, and the key's own for those that name none."""
        found = (self.find(raw) for raw in records if isinstance(raw, dict))
        return list({model.pk: model for model in found if model is not None}.values())

    def find(self, raw: dict[str, Any]) -> RegisteredModel | None:
        """The model a record names (or the key's own), or None where ``model`` rejects it."""
        name = raw.get("model")
        if name is None:
            return self.default
        return self.by_name.get(name) if isinstance(name, str) else None

    def model(self, raw: dict[str, Any]) -> RegisteredModel:
        name = raw.get("model")
        if name is None and self.default is not None:
            return self.default
        if not isinstance(name, str) or not name:
            raise Reject("model: required (the model's name)")
        found = self.by_name.get(name)
        if found is None:
            raise Reject(f"model: no model named {name[:100]!r}")
        return found


def versions_of(pairs: set[tuple[int, str]]) -> dict[tuple[int, str], ModelVersion]:
    """(model id, version) → version, in one query."""
    if not pairs:
        return {}
    model_ids = {model_id for model_id, _ in pairs}
    numbers = {number for _, number in pairs}
    found = ModelVersion.objects.filter(model_id__in=model_ids, version__in=numbers)
    return {(v.model_id, v.version): v for v in found if (v.model_id, v.version) in pairs}


def json_text(value: Any) -> str:
    """``value`` as JSON text for a statement's parameter: orjson, or the standard library
    for what orjson will not write (an integer past 64 bits, kept exact by PostgreSQL)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)
