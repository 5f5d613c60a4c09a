"""API body parsers: a size cap, a clean answer for deep nesting, and storable text only.

Every parser here refuses text PostgreSQL cannot store (NUL, lone surrogates) with a 400
naming the top-level field, so such text never reaches the ORM as a 500.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import orjson
from django.conf import settings
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from rest_framework import exceptions, status
from rest_framework.parsers import DataAndFiles, FormParser, JSONParser, MultiPartParser

from portal.request_limits import body_limit, body_limit_message, declared_length
from portal.text import find_unstorable, may_hold_unstorable, unstorable_char
from portal.uploads import limit_message, upload_was_stopped

if TYPE_CHECKING:
    from django.http.request import _ImmutableQueryDict


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


def _fields(data: Any) -> Iterable[tuple[Any, Any]] | None:
    if isinstance(data, MultiValueDict):  # form data: every value of every key
        return ((key, value) for key, values in data.lists() for value in values)
    if isinstance(data, dict):
        return data.items()
    return None


def refuse_unstorable(data: Any) -> None:
    """400 naming the top-level field whose value holds text PostgreSQL cannot store."""
    fields = _fields(data)
    if fields is None:
        problem = find_unstorable(data)
        if problem is not None:
            raise exceptions.ValidationError({"detail": [f"The body {problem}."]})
        return
    for key, value in fields:
        key_problem = unstorable_char(key) if isinstance(key, str) else None
        if key_problem is not None:
            raise exceptions.ValidationError({"detail": [f"A field name {key_problem}."]})
        problem = find_unstorable(value)
        if problem is not None:
            raise exceptions.ValidationError({key: [f"This field {problem}."]})


def _refuse_declared_oversize(parser_context: Any) -> int | None:
    """The body cap, after a 413 when the declared length is already over it."""
    limit = body_limit()
    request = (parser_context or {}).get("request")
    if limit is not None and request is not None and declared_length(request) > limit:
        raise PayloadTooLarge(body_limit_message())
    return limit


_UNPARSED = object()
_LONG_NUMBER = re.compile(rb"\d{19}")


def _fast_parse(raw: bytes, encoding: str) -> Any:
    """The body parsed by orjson, or _UNPARSED for the standard parser to decide: orjson
    refuses what it does not take (integers past 64 bits, nesting past 1,024 levels, lone
    surrogate escapes), and the standard parser then gives its own answer and message."""
    if encoding.lower().replace("-", "") != "utf8" or _LONG_NUMBER.search(raw):
        return _UNPARSED  # orjson reads integers past 64 bits as floats: keep them exact
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _UNPARSED


class CappedJSONParser(JSONParser):
    """Refuse bodies over DATA_UPLOAD_MAX_MEMORY_SIZE (413) before parsing them.

    DRF reads the request stream directly, so Django's own body cap never applies here.
    """

    checks_storable = True

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        _refuse_declared_oversize(parser_context)
        raw = stream.read() if stream is not None else b""
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        fast = True
        try:
            data = _fast_parse(raw, encoding)
            if data is _UNPARSED:
                fast = False
                data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError("JSON parse error - nesting is too deep.") from exc
        # A large batch holds tens of thousands of strings: walk them only when the body
        # could have produced one PostgreSQL cannot store.
        storable = encoding.lower().replace("-", "") == "utf8" and not may_hold_unstorable(raw)
        if not self.checks_storable:
            request = (parser_context or {}).get("request")
            if request is not None:
                # orjson's values hold no infinity and no integer past 64 bits; with no
                # unstorable escape either, the views of record batches skip their own walk.
                request.storable_body = storable and fast
            return data
        if not storable:
            refuse_unstorable(data)
        return data


class RecordsJSONParser(CappedJSONParser):
    """For batches of records checked one by one (``feedback.records``): a record holding
    text PostgreSQL cannot store is rejected on its own there, not the whole body here."""

    checks_storable = False


class CappedFormParser(FormParser):
    """DRF's form parser reads the whole stream; this one stops one byte past the cap."""

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> _ImmutableQueryDict:
        limit = _refuse_declared_oversize(parser_context)
        body = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(body) > limit:
            raise PayloadTooLarge(body_limit_message())
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        data = QueryDict(body, encoding=encoding)  # TooManyFieldsSent maps to a 400
        refuse_unstorable(data)
        return data


class CheckedMultiPartParser(MultiPartParser):
    """Django's multipart parser caps text fields and counts; this adds the text check and
    answers 413 when the streaming upload cap stopped a file, so views never check it."""

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> DataAndFiles[Any, Any]:
        parsed = super().parse(stream, media_type, parser_context)
        request = (parser_context or {}).get("request")
        if request is not None and upload_was_stopped(request):
            raise PayloadTooLarge(limit_message())
        refuse_unstorable(parsed.data)
        return parsed
