"""Fixtures for the log format and task context tests."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from portal.log_format import JsonFormatter, RequestContextFilter
from portal.request_id import begin_request, end_request


@pytest.fixture
def json_log() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """``json_log()``: every line logged so far, as the JSON console handler wrote it, parsed.

    Each line must parse on its own: a record spanning two lines fails the test.
    """
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture
def serving_request() -> Iterator[str]:
    """The test runs as if serving a request sent with ``X-Request-ID: abc-123``."""
    begin_request("abc-123")
    try:
        yield "abc-123"
    finally:
        end_request()
