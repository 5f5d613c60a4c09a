"""Log lines name their request (and task); HANDOFF_LOG_FORMAT=json makes one JSON object a line."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings

from portal.log_format import RequestContextFilter
from portal.request_id import end_request

ROOT = Path(__file__).resolve().parents[2]
log = logging.getLogger("handoff.test")


def test_a_json_line_names_time_level_logger_message_and_request(json_log, serving_request):
    """Time is ISO 8601 in UTC; the message has its arguments filled in."""
    log.warning("artifact %s refused", 42)

    [line] = json_log()
    assert line["level"] == "WARNING"
    assert line["logger"] == "handoff.test"
    assert line["message"] == "artifact 42 refused"
    assert line["request_id"] == "abc-123"
    logged_at = datetime.fromisoformat(line["time"])
    assert logged_at.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - logged_at) < timedelta(minutes=1)
    assert line["time"].endswith("Z")


def test_an_exception_is_text_inside_the_one_json_line(json_log, serving_request):
    """The traceback is escaped into the line, so a collector never splits the record."""
    try:
        raise ValueError("bad opset")
    except ValueError:
        log.exception("validation stopped")

    [line] = json_log()
    assert line["message"] == "validation stopped"
    assert line["exc_info"].startswith("Traceback (most recent call last):")
    assert "ValueError: bad opset" in line["exc_info"]
    assert line["request_id"] == "abc-123"


def test_a_line_outside_any_request_or_task_has_no_ids(json_log):
    log.info("beat ran")

    [line] = json_log()
    assert line["message"] == "beat ran"
    assert not {"request_id", "task_id", "task_name", "exc_info"} & line.keys()


def test_the_plain_format_names_the_request_or_a_dash(serving_request):
    """The plain format in settings.LOGGING shows the request id, "-" outside a request."""
    formatter = logging.Formatter(settings.LOGGING["formatters"]["plain"]["format"])
    context = RequestContextFilter()

    def plain(message: str) -> str:
        record = log.makeRecord(log.name, logging.INFO, __file__, 1, message, (), None)
        context.filter(record)
        return formatter.format(record)

    assert plain("inside").endswith(" INFO handoff.test [abc-123] inside")
    end_request()
    assert plain("outside").endswith(" INFO handoff.test [-] outside")


# HANDOFF_LOG_FORMAT, through the real settings in a fresh process ----------------------

SCRIPT = """
import logging, django
django.setup()
from portal.request_id import begin_request
begin_request("abc-123")
logging.getLogger("handoff.test").warning("hello")
"""


def _log_in_fresh_process(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HANDOFF_"))}
    clean.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DJANGO_DEBUG="1",
        HANDOFF_VAR_DIR="/tmp/handoff-var",
        **env,
    )
    return subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_json_format_writes_one_json_object_per_line() -> None:
    result = _log_in_fresh_process(HANDOFF_LOG_FORMAT="json")

    assert result.returncode == 0, result.stderr
    [line] = [json.loads(text) for text in result.stderr.splitlines()]
    assert (line["logger"], line["message"], line["request_id"]) == (
        "handoff.test",
        "hello",
        "abc-123",
    )


def test_plain_is_the_default_format() -> None:
    result = _log_in_fresh_process()

    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().endswith("WARNING handoff.test [abc-123] hello")


def test_an_unknown_log_format_is_refused_at_start() -> None:
    result = _log_in_fresh_process(HANDOFF_LOG_FORMAT="xml")

    assert result.returncode != 0
    assert "HANDOFF_LOG_FORMAT must be plain or json" in result.stderr
