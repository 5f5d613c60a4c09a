"""MLflow's paging: ``max_results`` and an opaque ``page_token`` (here, an offset)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet

from registry.mlflow_api.errors import invalid
from registry.mlflow_api.http import Call


def page_size(call: Call, *, default: int, most: int = 1_000) -> int:
    size = call.integer("max_results", default=default, low=1)
    assert size is not None
    if size > most:
        raise invalid(f"max_results: at most {most:,}, not {size:,}.")
    return size


def page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def page_offset(call: Call) -> int:
    token = call.text("page_token", required=False)
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise invalid("page_token: not a token this server gave.") from None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise invalid("page_token: not a token this server gave.")
    return offset


def paged(
    call: Call,
    rows: QuerySet[Any],
    name: str,
    shape: Callable[[Any], Any],
    *,
    default: int,
    most: int = 1_000,
) -> dict[str, Any]:
    """``{name: [...]}`` for the page the call asks for, with ``next_page_token`` when more."""
    size = page_size(call, default=default, most=most)
    offset = page_offset(call)
    page = list(rows[offset : offset + size + 1])
    answer: dict[str, Any] = {name: [shape(row) for row in page[:size]]}
    if len(page) > size:
        answer["next_page_token"] = page_token(offset + size)
    return answer
