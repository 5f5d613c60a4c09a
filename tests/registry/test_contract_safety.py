"""Contracts never fetch, never read files, never backtrack and never loop."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from registry.schemas import UnrunnableSchema, first_error
from registry.services.contracts import check_contract, check_schema
from tests.registry.conftest import OUTPUT_V1

BASE = "/api/v1/models/fraud-score/versions/1.0.0"
CATASTROPHIC = "^(a+)+$"
# 2**40 backtracking steps for Python's re; RE2 answers at once.
SLOW_FOR_RE = "a" * 40 + "!"


@pytest.fixture
def http_server() -> Iterator[tuple[str, list[str]]]:
    """A local server that records every request made to it."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"type": "integer"}')

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()


def _refusal(schema: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        check_schema(schema, field="input_schema")
    return caught.value.message_dict["input_schema"][0]


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "{url}/schema.json"},
        {"properties": {"a": {"$ref": "{url}/a.json"}}},
        {"$id": "{url}/root.json", "properties": {"a": {"$ref": "a.json"}}},
        {"$defs": {"x": {"$dynamicRef": "{url}/x.json"}}},
        {"$schema": "{url}/evil-meta-schema"},
    ],
)
def test_a_schema_reaching_outside_its_document_is_refused_without_a_fetch(
    http_server, schema
) -> None:
    """Non-local $ref, $dynamicRef, $id and $schema are refused on save; nothing is fetched."""
    url, hits = http_server
    concrete = _substitute(schema, url)

    message = _refusal(concrete)

    assert "Refused" in message or "Not a valid JSON Schema" in message
    assert hits == []


def test_a_file_reference_is_refused_and_no_file_content_is_shown() -> None:
    """A file:// $ref names the rule, never the file's content."""
    message = _refusal({"$ref": "file:///etc/passwd"})

    assert "points outside the contract" in message
    assert "root:" not in message


def test_a_stored_remote_reference_cannot_fetch_at_validation_time(http_server) -> None:
    """Even a schema that bypassed the save checks resolves nothing over the network."""
    url, hits = http_server

    with pytest.raises(UnrunnableSchema, match="does not resolve"):
        first_error(5, {"$ref": f"{url}/schema.json"})

    assert hits == []


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "#"},
        {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"},
        {"if": {"type": "string"}, "then": {"$ref": "#"}},
    ],
)
def test_a_reference_cycle_is_a_field_error_not_a_crash(schema) -> None:
    """A cycle that never descends into the payload is refused with a reason."""
    assert "never ends" in _refusal(schema)


def test_a_recursive_tree_schema_is_still_allowed() -> None:
    """Local references that descend into the payload are ordinary recursion."""
    tree = {
        "type": "object",
        "properties": {"children": {"type": "array", "items": {"$ref": "#"}}},
    }
    example = {"children": [{"children": []}, {"children": [{"children": []}]}]}

    check_contract(
        input_schema=tree, output_schema=OUTPUT_V1, example_request=example, example_response=None
    )
    with pytest.raises(ValidationError, match="children/0/children"):
        check_contract(
            input_schema=tree,
            output_schema=OUTPUT_V1,
            example_request={"children": [{"children": 3}]},
            example_response=None,
        )


@pytest.mark.parametrize(
    ("schema", "payload", "fails"),
    [
        ({"type": "string", "pattern": CATASTROPHIC}, SLOW_FOR_RE, True),
        ({"patternProperties": {CATASTROPHIC: {"type": "integer"}}}, {SLOW_FOR_RE: "x"}, False),
        ({"patternProperties": {CATASTROPHIC: {"type": "integer"}}}, {"aaaa": "x"}, True),
        (
            {"patternProperties": {CATASTROPHIC: {}}, "additionalProperties": False},
            {SLOW_FOR_RE: "x"},
            True,
        ),
        ({"propertyNames": {"pattern": CATASTROPHIC}}, {SLOW_FOR_RE: "x"}, True),
    ],
)
def test_catastrophic_patterns_are_matched_in_linear_time(schema, payload, fails) -> None:
    """Patterns run on RE2: a payload that makes Python's re backtrack is answered at once."""
    started = time.monotonic()

    error = first_error(payload, schema)

    assert time.monotonic() - started < 5
    assert (error is not None) is fails


def test_patterns_still_match_what_they_should() -> None:
    """RE2 keeps the search semantics of JSON Schema (unanchored unless anchored)."""
    schema = {
        "type": "object",
        "properties": {"code": {"type": "string", "pattern": "[A-Z]{2}$"}},
        "patternProperties": {"^x-": {"type": "string"}},
        "additionalProperties": False,
    }
    assert first_error({"code": "12DE", "x-note": "ok"}, schema) is None
    assert "does not match" in first_error({"code": "de"}, schema).message
    assert "is not of type 'string'" in first_error({"x-note": 3}, schema).message
    assert "'other' unexpected" in first_error({"other": 1}, schema).message


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        ({"type": "string", "pattern": "(?=a)b"}, "linear-time engine"),
        ({"type": "string", "pattern": "(a)\\1"}, "linear-time engine"),
        ({"type": "string", "pattern": "a" * 2_000}, "at most 1,000 characters"),
        ({"patternProperties": {"(?<!x)y": {}}}, "linear-time engine"),
        (
            {"patternProperties": {"^x": {}}, "allOf": [{"unevaluatedProperties": False}]},
            "unevaluatedProperties",
        ),
    ],
)
def test_patterns_the_engine_cannot_run_are_refused_on_save(schema, reason) -> None:
    """Look-arounds, back-references and oversized patterns are a field error naming why."""
    assert reason in _refusal(schema)


def test_the_api_refuses_an_unsafe_contract_and_keeps_the_old_one(api_for, alice, v1) -> None:
    """PUT /contract/ with a remote $ref is a 400 on input_schema; the contract is unchanged."""
    body = {"input_schema": {"$ref": "http://169.254.169.254/latest"}, "output_schema": {}}
    body |= {"example_request": None, "example_response": None}

    response = api_for(alice).put(f"{BASE}/contract/", body, format="json")

    assert response.status_code == 400
    assert "points outside the contract" in response.json()["errors"]["input_schema"][0]
    v1.refresh_from_db()
    assert "$ref" not in v1.input_schema


def test_the_contract_form_refuses_a_catastrophic_example_quickly(client_for, alice, v1) -> None:
    """The page answers with a field error instead of hanging a worker."""
    started = time.monotonic()
    response = client_for(alice).post(
        "/models/fraud-score/versions/1.0.0/contract/edit/",
        {
            "input_schema": '{"type": "string", "pattern": "^(a+)+$"}',
            "output_schema": "{}",
            "example_request": f'"{SLOW_FOR_RE}"',
        },
    )

    assert time.monotonic() - started < 5
    assert response.status_code == 200
    assert "does not match" in str(response.context["form"].errors["example_request"])


def _substitute(value: Any, url: str) -> Any:
    if isinstance(value, dict):
        return {key: _substitute(item, url) for key, item in value.items()}
    if isinstance(value, str):
        return value.replace("{url}", url)
    return value
