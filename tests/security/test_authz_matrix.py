"""The authorisation matrix: every page and API route of the URL conf, requested as each
persona, for a read and for every write the route accepts, against the outcome its rule
names (tests/security/rules_*.py). Case ids read ``<route>|<method>|<persona>``;
``-k "model-edit and POST"`` runs one row.

A route without a rule fails ``test_every_route_has_a_rule``, naming it: a new endpoint is
not done until someone has said who may use it. A 5xx is never an accepted outcome (a known
bug is a strict xfail on the rule). No response may show a token or key, nor a webhook's URL
to someone who does not configure that webhook.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.security import matrix
from tests.security.matrix import (
    ADMIN,
    EXCLUDED,
    OWNER,
    PERSONAS,
    SIGNED_IN,
    TEAMMATE,
    Rule,
    Write,
)
from tests.security.rules_api import RULES as API_RULES
from tests.security.rules_mlflow import RULES as MLFLOW_RULES
from tests.security.rules_pages import RULES as PAGE_RULES
from tests.security.world import DRIFT_HOOK_SECRET, HOOK_SECRET, World

pytestmark = pytest.mark.django_db

RULES: dict[str, Rule] = {**PAGE_RULES, **API_RULES, **MLFLOW_RULES}
assert len(RULES) == len(PAGE_RULES) + len(API_RULES) + len(MLFLOW_RULES), "a rule twice"

# Who configures alice's team's webhooks (release and drift alerts), and so may see their URLs.
WEBHOOK_CONFIGURERS = (OWNER, TEAMMATE, ADMIN)

# Parameters a route's rule does not name come from here.
DEFAULT_ARGS = {
    "name": "{w.model.name}",
    "model_name": "{w.model.name}",
    "version": "{w.version.version}",
}
# A dataset route's "name" and "version" are the dataset's.
DATASET_ARGS = {"name": "{w.dataset.name}", "version": "{w.dataset.version}"}


def _cases() -> Iterator[Any]:
    for key, rule in RULES.items():
        for persona in PERSONAS:
            yield pytest.param(key, None, persona, id=f"{key}|GET|{persona}")
        for index, write in enumerate(rule.writes):
            for persona in PERSONAS:
                marks = []
                if persona in write.xfail_personas:
                    marks.append(pytest.mark.xfail(reason=write.xfail, strict=True))
                case_id = f"{key}|{write.method}|{persona}"
                yield pytest.param(key, index, persona, marks=marks, id=case_id)


@pytest.fixture(scope="module")
def sessions(world: World, django_db_blocker: Any) -> dict[str, str]:
    """Each signed-in persona's session key."""
    keys = {}
    with django_db_blocker.unblock():
        for persona in SIGNED_IN:
            client = Client()
            client.force_login(world.people[persona])
            keys[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return keys


def test_every_route_has_a_rule() -> None:
    """The routes of the URL conf (less the named exclusions) are exactly the rules' keys."""
    routes = matrix.routes()
    missing = [f"{key} ({routes[key].view})" for key in sorted(set(routes) - set(RULES))]
    stale = sorted(set(RULES) - set(routes))
    assert not missing, f"routes without a rule in tests/security/rules_*.py: {missing}"
    assert not stale, f"rules for routes that no longer exist: {stale}"


def test_each_exclusion_still_excludes_something() -> None:
    """An exclusion that matches nothing has rotted: it would hide the next route there."""
    routes = list(matrix.walk())
    unused = [prefix for prefix in EXCLUDED if not any(r.route.startswith(prefix) for r in routes)]
    assert not unused, f"exclusions that match no route: {unused}"


@pytest.mark.parametrize(("key", "write_index", "persona"), list(_cases()))
def test_each_persona_gets_what_the_rule_says(
    world: World, sessions: dict[str, str], key: str, write_index: int | None, persona: str
) -> None:
    """The route's read (``write_index`` None) or write, as ``persona``: the rule's outcome,
    no 5xx, and no secret the persona may not see."""
    route, rule = matrix.routes()[key], RULES[key]
    args = DEFAULT_ARGS | (DATASET_ARGS if key.startswith("datasets:") else {}) | rule.args
    if write_index is None:
        method, expected = "GET", rule.read
        body = {name: matrix.resolve(world, value) for name, value in rule.query.items()}
    else:
        write: Write = rule.writes[write_index]
        method, expected, body = write.method, write.expect, matrix.body_of(write, world)
        args |= write.args
    url = matrix.url_of(route, args, world)
    client = matrix.client_for(persona, route, world, sessions)

    response = matrix.send(client, route, method, url, body)

    got = matrix.outcome_of(response)
    assert response.status_code < 500, f"{method} {url} as {persona}: {response.status_code}"
    allowed = sorted(expected[persona], key=str)
    assert got in allowed, f"{method} {url} as {persona}: got {got}, the rule says {allowed}"
    leaked = _secrets_in(response, persona, world)
    assert not leaked, f"{method} {url} as {persona} shows {leaked}"


def _secrets_in(response: Any, persona: str, world: World) -> list[str]:
    """The secrets ``response`` shows that ``persona`` may not see."""
    # Downloads and CSV exports stream; the world's files are small.
    content = b"".join(response.streaming_content) if response.streaming else response.content
    text = content.decode(errors="replace")
    secrets = world.secrets()
    if persona not in WEBHOOK_CONFIGURERS:
        secrets["the release webhook URL's secret path"] = HOOK_SECRET
        secrets["the drift alerts' webhook URL's secret path"] = DRIFT_HOOK_SECRET
    return [name for name, secret in secrets.items() if secret in text]
