"""The API against its own OpenAPI schema, with Schemathesis generating the requests.

The schema is read through an authenticated test client inside a fixture (it needs the
database, so it cannot be loaded at import time), then every operation in it is called
in-process through the WSGI application with a personal token. New endpoints are covered
as soon as they appear in /api/v1/schema/. Generation is derandomised (a fixed seed), so
every run sends the same requests; test_api_stateful.py chains operations through links.

Four layers:

* Read operations (GET): 25 generated examples each.
* Write operations (POST, PUT, PATCH, DELETE): 80 examples each, valid and invalid data,
  strings that may hold NUL (``\\x00``) and lone surrogates (``codec=None``), and four
  bodies in five with NUL or a lone surrogate put into one string: the classes PostgreSQL
  refuses and that a JSON parser or a Markdown renderer trips on.
* Hostile bodies built from each write operation's requestBody schema: every property in
  turn replaced by a string with NUL, a lone surrogate (``\\ud800`` as a JSON escape, the
  only way it can travel in JSON), a 1 MB string, a 5,000-deep list and an object with such
  keys; sent as JSON and in each form encoding the operation documents (there the surrogate
  is its invalid UTF-8 bytes).
* A session cookie holding NUL, next to the token, on every write operation and an unknown
  path.

The token's user is in a team that owns model "fraud-score" with version 1.0.0, and path
parameters are mostly those, so operations reach real rows rather than only 404s. Each
request runs in a savepoint that is rolled back, so a DELETE or a failed statement cannot
change what the next request sees. Run on PostgreSQL for the real thing::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/handoff_h3 \\
        .venv/bin/pytest tests/integration/test_api_schema.py -q
"""

from __future__ import annotations

import copy
import json
import re
import sys
import traceback
import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import got_request_exception
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, Phase, assume, settings
from hypothesis import strategies as st
from schemathesis import DataGenerationMethod, GenerationConfig
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.integration.conftest import MODEL_NAME, SCHEMA_URL, VERSION

# Fail on any 5xx and on any response that contradicts its documented schema.
CHECKS = (not_a_server_error, content_type_conformance, response_schema_conformance)
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
FORM_MEDIA_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
_SURROGATES = re.compile("[\ud800-\udfff]")
# Put into one string of a generated write body (see before_generate_body).
INJECTIONS = ("\x00", "\ud800", "\udfff", "nul\x00 and lone \udc00")

READ_EXAMPLES = 25
WRITE_EXAMPLES = 80
# NUL is allowed and no codec restricts the alphabet, so lone surrogates are generated too.
HOSTILE_GENERATION = GenerationConfig(allow_x00=True, codec=None)

# Path parameters that name the fixture's real objects.
REAL_PATH_PARAMETERS = {"name": MODEL_NAME, "model_name": MODEL_NAME, "version": VERSION}

# Hostile values as raw JSON text (a 5,000-deep list is beyond json.dumps' recursion) ...
DEEP_LIST_DEPTH = 5_000
HOSTILE_JSON = {
    "nul": json.dumps("before\x00after"),
    "lone-surrogate": json.dumps("before\ud800after", ensure_ascii=True),
    "one-megabyte": json.dumps("x" * 1_000_000),
    "deep-list": "[" * DEEP_LIST_DEPTH + "]" * DEEP_LIST_DEPTH,
    "hostile-keys": json.dumps({"\x00": "\ud800", "k\ud800": "\x00", "ok": ["\x00"]}),
}
assert "\\ud800" in HOSTILE_JSON["lone-surrogate"]
# ... and as the bytes of a form field. A form carries no escapes, so the lone surrogate is
# its WTF-8 bytes (not UTF-8), and hostile keys are an extra field with such a name.
HOSTILE_FORM = {
    "nul": b"before\x00after",
    "lone-surrogate": b"before\xed\xa0\x80after",
    "one-megabyte": b"x" * 1_000_000,
    "deep-list": b"[" * DEEP_LIST_DEPTH + b"]" * DEEP_LIST_DEPTH,
    "hostile-keys": b"\x00",
}
HOSTILE_FORM_KEY = b"k\x00\xed\xa0\x80"
FORM_BOUNDARY = "hostile-boundary-7d1c"
_PLACEHOLDER = "__hostile_value__"


with warnings.catch_warnings():
    # 3.39 warns about its own default filter arguments; nothing here passes any.
    warnings.simplefilter("ignore", DeprecationWarning)
    schema = schemathesis.from_pytest_fixture("api_schema")
    read_operations = schema.exclude(method=list(WRITE_METHODS))
    write_operations = schema.include(method=list(WRITE_METHODS))


@schema.hook
def before_generate_path_parameters(context: Any, strategy: st.SearchStrategy) -> Any:
    """Three times in four, path parameters name the fixture's real model and version."""

    def choose(drawn: tuple[dict[str, Any] | None, int]) -> dict[str, Any] | None:
        parameters, dice = drawn
        if parameters is None or dice == 3:
            return parameters
        return {key: REAL_PATH_PARAMETERS.get(key, value) for key, value in parameters.items()}

    return st.tuples(strategy, st.integers(min_value=0, max_value=3)).map(choose)


@schema.hook
def before_generate_body(context: Any, strategy: st.SearchStrategy) -> Any:
    """Four write bodies in five get NUL or a lone surrogate in one of their strings.

    Left alone, the generator puts NUL in about 1% of strings and a surrogate in 0.2%; one
    string, not all, so the rest of the body stays valid and the value travels far.
    """
    if context.operation is None or context.operation.method.upper() not in WRITE_METHODS:
        return strategy
    choices = st.integers(min_value=0, max_value=len(INJECTIONS))
    return st.tuples(strategy, choices, st.integers(min_value=0, max_value=63)).map(_inject)


def _inject(drawn: tuple[Any, int, int]) -> Any:
    body, which, target = drawn
    if which == len(INJECTIONS):
        return body
    body = copy.deepcopy(body)
    root: list[Any] = [body]
    slots: list[tuple[Any, Any]] = []  # (container, key) of every string value
    stack: list[Any] = [root]
    while stack:
        container = stack.pop()
        keys = container.keys() if isinstance(container, dict) else range(len(container))
        for key in keys:
            value = container[key]
            if isinstance(value, str):
                slots.append((container, key))
            elif isinstance(value, dict | list):
                stack.append(value)
    if slots:
        container, key = slots[target % len(slots)]
        text = container[key]
        middle = len(text) // 2
        container[key] = text[:middle] + INJECTIONS[which] + text[middle:]
    return root[0]


def _as_form_data(body: Any) -> Any:
    """A form body can carry only UTF-8: what a server decodes from a lone surrogate's bytes.

    Negative generation may also give a form a non-object body, which no client can send.
    """
    assume(isinstance(body, dict))

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return _SURROGATES.sub("\ufffd", value)
        if isinstance(value, list):
            return [clean(item) for item in value]
        return value

    return {clean(key): clean(value) for key, value in body.items()}


def _call_and_validate(case: Any, token_headers: dict[str, str]) -> None:
    """One generated request, in a savepoint rolled back afterwards; a 5xx names its cause."""
    if case.media_type in FORM_MEDIA_TYPES and case.body is not None:
        case.body = _as_form_data(case.body)
    raised: list[BaseException] = []

    def remember(**kwargs: Any) -> None:
        if (error := sys.exc_info()[1]) is not None:
            raised.append(error)

    got_request_exception.connect(remember, weak=False)
    try:
        with transaction.atomic():
            response = case.call(headers=token_headers)
            transaction.set_rollback(True)
    finally:
        got_request_exception.disconnect(remember)
    assert response.status_code != 401, "the personal token was not accepted"
    if response.status_code >= 500 and raised:
        raise AssertionError(
            f"{response.status_code} for {case.operation.verbose_name}: {_summary(raised[-1])}"
            f"\n{case.as_curl_command(headers={'Authorization': '[token]'})}"
        ) from raised[-1]
    case.validate_response(response, checks=CHECKS, headers=token_headers)


@read_operations.parametrize()
@settings(
    max_examples=READ_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,  # a fixed seed: every run sends the same requests
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_it_answers_every_read_operation_without_5xx_and_as_documented(
    case: Any, token_headers: dict[str, str], fraud_version: Any
) -> None:
    """Generated GET requests with a personal token never get a 5xx or an undocumented answer."""
    _call_and_validate(case, token_headers)


@write_operations.parametrize(
    generation_config=HOSTILE_GENERATION,
    data_generation_methods=DataGenerationMethod.all(),
)
@settings(
    max_examples=WRITE_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,  # a fixed seed: every run sends the same requests
    # No shrinking: while write operations still fail it would take minutes per operation;
    # the failure names the server's exception and a curl command to replay it.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_it_answers_every_write_operation_without_5xx_even_with_nul_and_surrogates(
    case: Any, token_headers: dict[str, str], fraud_version: Any
) -> None:
    """Valid and invalid write requests, strings with NUL and lone surrogates: no 5xx."""
    _call_and_validate(case, token_headers)


# Hostile bodies from the requestBody schemas --------------------------------------------


def _resolve(document: dict[str, Any], node: Any) -> Any:
    """Follow local ``$ref``s (and a lone ``allOf`` wrapper) to the schema they name."""
    for _ in range(20):
        if isinstance(node, dict) and "$ref" in node:
            target: Any = document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        elif isinstance(node, dict) and len(node.get("allOf", [])) == 1:
            node = {**node["allOf"][0], **{k: v for k, v in node.items() if k != "allOf"}}
        else:
            return node
    raise AssertionError(f"unresolvable $ref chain: {node}")


def _write_operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method.upper() in WRITE_METHODS:
                yield method.upper(), path, operation


def _fill_path(path: str, team_slug: str) -> str:
    def value(match: re.Match[str]) -> str:
        return REAL_PATH_PARAMETERS.get(match.group(1), team_slug)

    return re.sub(r"\{([^}]+)\}", value, path)


def _body_schema(
    document: dict[str, Any], operation: dict[str, Any], media_type: str
) -> dict[str, Any]:
    content = operation.get("requestBody", {}).get("content", {})
    schema_ = content.get(media_type, {}).get("schema")
    return _resolve(document, schema_) if schema_ else {}


def _plain_value(name: str, prop: dict[str, Any], team_slug: str) -> Any:
    """A value the property would accept, as best a generic guess can; None to leave it out.

    The names that refer to other rows (a team, a new version) get real-looking values so the
    request gets past them and the hostile value travels as far as it can.
    """
    hints = {"team": team_slug, "version": "9.9.9", "name": "hostile-check"}
    if prop.get("readOnly") or prop.get("format") == "binary":
        return None
    if "enum" in prop:
        return prop["enum"][0]
    kind = prop.get("type")
    if kind == "string":
        if name in hints:
            return hints[name]
        pattern = prop.get("pattern")
        for candidate in ("Hostile check", "hostile-check", "9.9.9"):
            if pattern is None or re.search(pattern, candidate):
                return candidate
        return None
    if kind == "array":
        return ["hostile-check"]
    if kind in ("integer", "number"):
        return prop.get("minimum", 1)
    if kind == "boolean":
        return False
    return {}  # objects and untyped values (JSON fields: schemas, examples, lists)


def _properties(document: dict[str, Any], body_schema: dict[str, Any]) -> dict[str, Any]:
    resolved = {
        name: _resolve(document, prop) for name, prop in body_schema.get("properties", {}).items()
    }
    return {name: prop for name, prop in resolved.items() if not prop.get("readOnly")}


def _is_string_list(document: dict[str, Any], prop: dict[str, Any]) -> bool:
    items = _resolve(document, prop.get("items", {}))
    return prop.get("type") == "array" and items.get("type") == "string"


def _hostile_bodies(
    document: dict[str, Any], operation: dict[str, Any], team_slug: str, hostile: str
) -> Iterator[tuple[str, str, bytes]]:
    """(label, content type, raw body): each property in turn set to the hostile value.

    JSON always (an endpoint without a JSON body must refuse or ignore one), and the form
    encodings the operation documents.
    """
    properties = _properties(document, _body_schema(document, operation, "application/json"))
    if not properties:
        body = _with_hostile({"value": _PLACEHOLDER}, HOSTILE_JSON[hostile])
        yield "(whole JSON body)", "application/json", body
    plain = {
        name: value
        for name, prop in properties.items()
        if (value := _plain_value(name, prop, team_slug)) is not None
    }
    for name, prop in properties.items():
        placeholder = [_PLACEHOLDER] if _is_string_list(document, prop) else _PLACEHOLDER
        body = _with_hostile({**plain, name: placeholder}, HOSTILE_JSON[hostile])
        yield f"{name} (JSON)", "application/json", body
    for media_type in FORM_MEDIA_TYPES:
        form_properties = _properties(document, _body_schema(document, operation, media_type))
        if form_properties:
            yield from _hostile_forms(form_properties, media_type, team_slug, hostile)


def _hostile_forms(
    properties: dict[str, Any], media_type: str, team_slug: str, hostile: str
) -> Iterator[tuple[str, str, bytes]]:
    value = HOSTILE_FORM[hostile]
    plain: list[tuple[bytes, bytes]] = []
    for name, prop in properties.items():
        for item in _as_list(_plain_value(name, prop, team_slug)):
            plain.append((name.encode(), _form_text(item)))
    if hostile == "hostile-keys":
        yield "(extra field)", *_encode_form([*plain, (HOSTILE_FORM_KEY, value)], media_type)
        return
    for name in properties:
        fields = [(key, text) for key, text in plain if key != name.encode()]
        yield f"{name} ({media_type})", *_encode_form([*fields, (name.encode(), value)], media_type)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _form_text(value: Any) -> bytes:
    return (value if isinstance(value, str) else json.dumps(value)).encode()


def _encode_form(fields: list[tuple[bytes, bytes]], media_type: str) -> tuple[str, bytes]:
    if media_type == "application/x-www-form-urlencoded":
        pairs = [f"{quote_from_bytes(key)}={quote_from_bytes(text)}" for key, text in fields]
        return media_type, "&".join(pairs).encode("ascii")
    boundary = FORM_BOUNDARY.encode()
    parts = [
        b"--"
        + boundary
        + b'\r\nContent-Disposition: form-data; name="'
        + key
        + b'"\r\n\r\n'
        + text
        + b"\r\n"
        for key, text in fields
    ]
    return f"{media_type}; boundary={FORM_BOUNDARY}", b"".join(parts) + b"--" + boundary + b"--\r\n"


def _with_hostile(body: dict[str, Any], hostile: str) -> bytes:
    text = json.dumps(body, ensure_ascii=True).replace(json.dumps(_PLACEHOLDER), hostile)
    return text.encode("ascii")


def _failure(label: str, detail: str) -> str:
    return f"{label}\n    {detail}"


def _summary(exc: BaseException) -> str:
    """The exception and the innermost frames of Handoff's own code that it went through."""
    root = str(django_settings.BASE_DIR)
    ours = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if frame.filename.startswith(root)
        and not any(part in frame.filename for part in ("/.venv/", "/site-packages/", "/tests/"))
    ]
    where = " <- ".join(
        f"{frame.filename.rsplit('/', 2)[-2]}/{frame.filename.rsplit('/', 1)[-1]}:"
        f"{frame.lineno} {frame.name}"
        for frame in reversed(ours[-3:])
    )
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]} @ {where or '?'}"


@pytest.mark.parametrize("hostile", list(HOSTILE_JSON))
def test_every_write_operation_refuses_hostile_values_without_5xx(
    hostile: str,
    openapi_document: dict[str, Any],
    token_headers: dict[str, str],
    fraud_version: Any,
    api_team: Any,
) -> None:
    """Every write operation, every body property, as JSON and as each documented form
    encoding: NUL, a lone surrogate, 1 MB, 5,000-deep nesting and hostile keys are answered
    below 500 (accepted, 400, 413 or 415)."""
    client = Client(raise_request_exception=True)
    failures: list[str] = []
    sent: set[tuple[str, str]] = set()
    for method, path, operation in _write_operations(openapi_document):
        url = _fill_path(path, api_team.slug)
        bodies = _hostile_bodies(openapi_document, operation, api_team.slug, hostile)
        for prop, content_type, raw in bodies:
            label = f"{method} {path} [{prop} = {hostile}]"
            sent.add((method, path))
            try:
                with transaction.atomic():
                    response = client.generic(
                        method,
                        url,
                        raw,
                        content_type=content_type,
                        HTTP_AUTHORIZATION=token_headers["Authorization"],
                    )
                    transaction.set_rollback(True)
            except Exception as exc:  # the test client re-raises what became a 500
                failures.append(_failure(label, _summary(exc)))
                continue
            assert response.status_code != 401, "the personal token was not accepted"
            if response.status_code >= 500:
                detail = f"{response.status_code} {response.content[:300]!r}"
                failures.append(_failure(label, detail))

    every_write = {(method, path) for method, path, _ in _write_operations(openapi_document)}
    assert sent == every_write and every_write, "some write operations were not exercised"
    assert not failures, f"{len(failures)} hostile requests got a 5xx:\n" + "\n".join(failures)


# A cookie travels as bytes; Django unquotes "\\000" in a quoted cookie value into NUL.
HOSTILE_SESSION_COOKIE = 'sessionid="hostile\\000session\\000key"'


def test_a_session_cookie_with_nul_is_not_a_5xx(
    openapi_document: dict[str, Any],
    token_headers: dict[str, str],
    fraud_version: Any,
    api_team: Any,
) -> None:
    """Every write operation, and an unknown API path (the HTML 404 page loads the session),
    with a token and a session cookie holding NUL: never a 5xx."""
    client = Client(raise_request_exception=True)
    failures: list[str] = []
    targets = [
        (method, _fill_path(path, api_team.slug))
        for method, path, _ in _write_operations(openapi_document)
    ]
    for method, url in [*targets, ("DELETE", "/api/v1/models/%3F-/"), ("POST", "/api/v1/nowhere/")]:
        try:
            with transaction.atomic():
                response = client.generic(
                    method,
                    url,
                    HTTP_AUTHORIZATION=token_headers["Authorization"],
                    HTTP_COOKIE=HOSTILE_SESSION_COOKIE,
                )
                transaction.set_rollback(True)
        except Exception as exc:
            failures.append(_failure(f"{method} {url}", _summary(exc)))
            continue
        if response.status_code >= 500:
            failures.append(_failure(f"{method} {url}", str(response.status_code)))
    assert not failures, f"{len(failures)} requests got a 5xx:\n" + "\n".join(failures)


def test_it_refuses_the_schema_to_anonymous_callers(db: Any) -> None:
    """/api/v1/schema/ answers 401 without a token or a session."""
    response = Client().get(SCHEMA_URL, HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 401


def test_it_serves_a_valid_openapi_3_document(openapi_document: dict[str, Any]) -> None:
    """The schema is a valid OpenAPI 3 document titled "Handoff API" that lists /api/v1/me/."""
    # validate_schema=True checks the document against the OpenAPI 3.0 meta-schema.
    loaded = schemathesis.from_dict(openapi_document, validate_schema=True)

    assert openapi_document["openapi"].startswith("3.")
    assert loaded.operations_count >= 1
    assert openapi_document["info"]["title"] == "Handoff API"
    assert "/api/v1/me/" in openapi_document["paths"]
