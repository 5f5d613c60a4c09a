"""The API in sequences: what one call creates, the next calls read, change and delete.

Schemathesis' state machine follows OpenAPI links from each creating operation to the
operations on what it created (a model to its page, versions, gates; a version to its card,
contract and status; a backlog item to its comments, links and moves; an experiment, a run,
an iteration, a release, a webhook). The schema does not carry links of its own, so they are
added here. Every call runs in-process with the fixture's personal token; every answer must
be no 5xx and as documented. Generation is derandomised: each run sends the same sequences.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

import pytest
import schemathesis
from django.core.signals import got_request_exception
from django.db import transaction
from django.utils.text import slugify
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.integration.conftest import MODEL_NAME, TEAM_NAME
from tests.integration.wsgi import wsgi_app

pytestmark = pytest.mark.django_db

CHECKS = (not_a_server_error, content_type_conformance, response_schema_conformance)
API = "/api/v1"
SEQUENCES = 150
STEPS = 8

# (creating operation, status, the field naming what it made, [(path, methods)] that use it)
MODEL = "/models/{model_name}"
VERSION = f"{MODEL}/versions/{{version}}"
LINKS: list[tuple[str, str, str, list[tuple[str, tuple[str, ...]]]]] = [
    (
        "/models/",
        "201",
        "name",
        [
            (f"{MODEL}/", ("GET", "PATCH", "DELETE")),
            (f"{MODEL}/versions/", ("GET", "POST")),
            (f"{MODEL}/gates/", ("GET", "POST")),
            (f"{MODEL}/compare/", ("GET",)),
        ],
    ),
    (
        f"{MODEL}/versions/",
        "201",
        "version",
        [
            (f"{VERSION}/", ("GET", "PATCH", "DELETE")),
            (f"{VERSION}/card/", ("GET", "PUT", "PATCH")),
            (f"{VERSION}/card/export/", ("GET",)),
            (f"{VERSION}/contract/", ("GET", "PUT")),
            (f"{VERSION}/status/", ("POST",)),
            (f"{VERSION}/gates/", ("GET",)),
        ],
    ),
    (
        "/backlog-items/",
        "201",
        "id",
        [
            ("/backlog-items/{item_id}/", ("GET", "PATCH")),
            ("/backlog-items/{item_id}/comments/", ("GET", "POST")),
            ("/backlog-items/{item_id}/links/", ("POST",)),
            ("/backlog-items/{item_id}/move/", ("POST",)),
        ],
    ),
    (
        "/experiments/",
        "201",
        "id",
        [
            ("/experiments/{experiment_id}/", ("GET", "PATCH")),
            ("/experiments/{experiment_id}/compare/", ("GET",)),
        ],
    ),
    (
        "/runs/",
        "201",
        "id",
        [
            ("/runs/{run_id}/", ("GET",)),
            ("/runs/{run_id}/end/", ("POST",)),
            ("/runs/{run_id}/log-batch/", ("POST",)),
        ],
    ),
    ("/iterations/", "201", "id", [("/iterations/{iteration_id}/", ("GET", "PATCH"))]),
    (
        "/releases/",
        "201",
        "id",
        [
            ("/releases/{release_id}/", ("GET",)),
            ("/releases/{release_id}/approve/", ("POST",)),
            ("/releases/{release_id}/reject/", ("POST",)),
            ("/releases/{release_id}/cancel/", ("POST",)),
        ],
    ),
    ("/release-webhooks/", "201", "id", [("/release-webhooks/{webhook_id}/", ("DELETE",))]),
]


def before_generate_body(context: Any, strategy: st.SearchStrategy) -> Any:
    """Three bodies in four name the token user's team and model where they name one, so
    creations succeed and the sequences go on from what they made."""
    return st.tuples(strategy, st.integers(min_value=0, max_value=3)).map(_real_names)


def _real_names(drawn: tuple[Any, int]) -> Any:
    body, dice = drawn
    if not isinstance(body, dict) or dice == 3:
        return body
    real = {"team": slugify(TEAM_NAME), "model": MODEL_NAME}
    return {key: real.get(key, value) for key, value in body.items()}


def _parameter(path: str) -> str:
    """The one path parameter a linked path gets from the creating answer: its last one."""
    return path.rstrip("/").rsplit("{", 1)[-1].split("}", 1)[0]


def linked_schema(document: dict[str, Any]) -> Any:
    schema = schemathesis.from_dict(document, app=wsgi_app, validate_schema=True)
    schema.hook(before_generate_body)
    for source, status, field, targets in LINKS:
        creating = schema[API + source]["POST"]
        for path, methods in targets:
            # Path parameters the creating call was given pass on as they were.
            given = {
                name: f"$request.path.{name}"
                for name in ("model_name", "version", "item_id")
                if f"{{{name}}}" in source and f"{{{name}}}" in path
            }
            given[_parameter(path)] = f"$response.body#/{field}"
            for method in methods:
                schema.add_link(
                    source=creating,
                    target=schema[API + path][method],
                    status_code=status,
                    parameters=given,
                )
    return schema


def test_linked_sequences_never_get_a_5xx_or_an_undocumented_answer(
    openapi_document: dict[str, Any], token_headers: dict[str, str], fraud_version: Any
) -> None:
    reached: Counter[str] = Counter()

    class Workflow(linked_schema(openapi_document).as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            # Each sequence starts from the fixture's data: what the last one made is undone,
            # so the same seed makes the same sequence (Hypothesis checks that it does).
            self.savepoint = transaction.savepoint()

        def teardown(self) -> None:
            transaction.savepoint_rollback(self.savepoint)

        def _add_results_to_targets(self, targets: Any, results: list[Any]) -> None:
            # Schemathesis 3.39 files each answer in the bundle of the links it can feed
            # under the method's older name (_add_result_to_targets), which this Hypothesis
            # no longer calls: every answer would land in "catch_all" and no link be taken.
            for result in results:
                target = result is not None and self._get_target_for_result(result)
                if target:
                    super()._add_results_to_targets((target,), [result])

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": token_headers}

        def call(self, case: Any, **kwargs: Any) -> Any:
            raised: list[BaseException] = []

            def remember(**signal: Any) -> None:
                if (error := sys.exc_info()[1]) is not None:
                    raised.append(error)

            got_request_exception.connect(remember, weak=False)
            try:
                # What a call made stays for the next steps; a refused call leaves nothing.
                with transaction.atomic():
                    response = case.call(**kwargs)
                    if response.status_code >= 400:
                        transaction.set_rollback(True)
            finally:
                got_request_exception.disconnect(remember)
            if response.status_code >= 500 and raised:
                raise AssertionError(
                    f"{response.status_code} for {case.operation.verbose_name}"
                ) from raised[-1]
            return response

        def after_call(self, response: Any, case: Any) -> None:
            if response.status_code < 300:
                reached[case.operation.verbose_name] += 1

        def validate_response(self, response: Any, case: Any, **extra: Any) -> None:
            assert response.status_code != 401, "the personal token was not accepted"
            case.validate_response(response, checks=CHECKS, headers=token_headers)

    Workflow.run(
        settings=settings(
            max_examples=SEQUENCES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure names its call
            suppress_health_check=list(HealthCheck),
        )
    )

    # The links were followed: things created were then read and changed by their ids.
    followed = {name for name in reached if "{" in name}
    assert {f"GET {API}{MODEL}/", f"GET {API}/backlog-items/{{item_id}}/"} <= followed, reached
    assert len(followed) >= 8, sorted(followed)
