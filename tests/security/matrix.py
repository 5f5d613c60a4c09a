"""The pieces of the authorisation matrix: the routes the URL conf has, who asks, what each
may get, and one request as one persona.

A rule says, for one route, what every persona gets for a read (GET) and, when the route
writes, for each write method it accepts. Outcomes are HTTP statuses, plus ``LOGIN`` for a
302 to the login page; a persona missing from an outcome table is a test error, not a pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.files import File
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

# Who asks. "revoked" sends alice's revoked personal token and no session.
ANONYMOUS, REVOKED = "anonymous", "revoked"
OWNER, TEAMMATE, OUTSIDER, APPROVER, VIEWER, ADMIN = (
    "alice",
    "bob",
    "charlie",
    "dana",
    "victor",
    "root",
)
SIGNED_IN = (OWNER, TEAMMATE, OUTSIDER, APPROVER, VIEWER, ADMIN)
PERSONAS = (ANONYMOUS, REVOKED, *SIGNED_IN)

LOGIN = "login"  # a 302 to the login page
# An owner's write: done (200/201/202/204, or a page's 302/303 after post/redirect/get), or
# refused for what was sent (400, 409 a stale revision, 415 a body of the wrong type, a
# page's 200 with the form's errors): past the permission check either way.
PASSED = frozenset({200, 201, 202, 204, 302, 303, 400, 409, 415})

# Routes the matrix does not request, each with its reason. Static files are served by
# WhiteNoise's middleware and media is never served by Django: neither is in the URL conf.
EXCLUDED = {
    "admin/": "Django's admin: staff only, with its own login page (tests/portal/test_admin.py)",
}
# The MLflow client sends a Bearer token and never a session cookie; these routes read only it.
MLFLOW_PREFIXES = ("api/2.0/mlflow/", "api/3.0/mlflow/", "api/2.0/mlflow-artifacts/")


@dataclass(frozen=True)
class Route:
    key: str  # "namespace:name", or the route text when the pattern has no name
    route: str  # the route text from the root, e.g. "models/<slug:name>/"
    pattern: URLPattern
    name: str | None

    @property
    def view(self) -> str:
        """The view's dotted name (a DRF view's class)."""
        callback = self.pattern.callback
        found = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        found = found or callback
        return f"{found.__module__}.{found.__qualname__}"

    @property
    def is_mlflow(self) -> bool:
        return self.route.startswith(MLFLOW_PREFIXES)

    @property
    def is_api(self) -> bool:
        view_class = getattr(self.pattern.callback, "cls", None)
        return self.is_mlflow or (view_class is not None and _is_drf(view_class))


def _is_drf(view_class: type) -> bool:
    from rest_framework.views import APIView

    return issubclass(view_class, APIView)


def walk(
    resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""
) -> Iterator[Route]:
    """Every URL pattern of the URL conf, with its full route text and namespaced name."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        text = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from walk(entry, text, inner)
            continue
        name = entry.name and (f"{namespace}:{entry.name}" if namespace else entry.name)
        yield Route(key=name or text, route=text, pattern=entry, name=name)


def excluded(route: Route) -> bool:
    return any(route.route.startswith(prefix) for prefix in EXCLUDED)


@cache
def routes() -> dict[str, Route]:
    """The routes the matrix covers, by key; two routes with one key fail loudly."""
    found: dict[str, Route] = {}
    for route in walk():
        if excluded(route):
            continue
        assert route.key not in found, f"two routes share the key {route.key!r}"
        found[route.key] = route
    return found


# Outcome tables -------------------------------------------------------------------------------


Outcome = frozenset[int | str]


def _outcome(value: int | str | Outcome) -> Outcome:
    return value if isinstance(value, frozenset) else frozenset({value})


@dataclass(frozen=True)
class Expect:
    """What each persona may get; ``but(...)`` changes some and keeps the rest."""

    table: Mapping[str, Outcome]

    @classmethod
    def of(cls, **by_persona: int | str | Outcome) -> Expect:
        return cls({name: _outcome(value) for name, value in by_persona.items()})

    def but(self, **by_persona: int | str | Outcome) -> Expect:
        changed = {name: _outcome(value) for name, value in by_persona.items()}
        return Expect({**self.table, **changed})

    def __getitem__(self, persona: str) -> Outcome:
        return self.table[persona]


def everyone(value: int | str | Outcome, *, anonymous: int | str | Outcome) -> Expect:
    """Every signed-in persona gets ``value``; anonymous callers and the revoked token get
    ``anonymous``."""
    return Expect.of(
        **{ANONYMOUS: anonymous, REVOKED: anonymous}, **{name: value for name in SIGNED_IN}
    )


Body = Mapping[str, Any] | Callable[[Any], Any] | None


@dataclass(frozen=True)
class Write:
    """A write request: its method, a minimal body and what each persona gets.

    ``body`` is sent as JSON to the API and as a form to pages; a callable gets the world,
    and text values may name world attributes as ``{w.item.pk}``."""

    method: str
    expect: Expect
    body: Body = None
    # Parameters of the route that differ from the read's (a file the write may remove).
    args: Mapping[str, str] = field(default_factory=dict)
    xfail: str = ""  # a known bug, named, for the personas whose outcome it breaks
    xfail_personas: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """A route's rule: what a GET gets (a route that only writes must refuse it, 405), and
    each write the route accepts.

    ``args`` fills the route's parameters and ``query`` is appended to its GET; both are
    text that may name world attributes as ``{w.item.pk}``.
    """

    read: Expect
    writes: tuple[Write, ...] = ()
    args: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)


def rule(
    read: Expect,
    *writes: Write,
    args: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
) -> Rule:
    return Rule(read=read, writes=writes, args=args or {}, query=query or {})


def post(expect: Expect, body: Body = None, **more: Any) -> Write:
    return Write("POST", expect, body, **more)


def put(expect: Expect, body: Body = None, **more: Any) -> Write:
    return Write("PUT", expect, body, **more)


def patch(expect: Expect, body: Body = None, **more: Any) -> Write:
    return Write("PATCH", expect, body, **more)


def delete(expect: Expect, body: Body = None, **more: Any) -> Write:
    return Write("DELETE", expect, body, **more)


# The outcomes most routes share.
PAGE = everyone(200, anonymous=LOGIN)  # everyone signed in reads
API = everyone(200, anonymous=401)
POST_ONLY = everyone(405, anonymous=LOGIN)  # a page route that only writes refuses GET
API_POST_ONLY = everyone(405, anonymous=401)
# A write of the object's team: its Data scientists and Engineers (and a superuser).
TEAM = Expect.of(
    **{ANONYMOUS: LOGIN, REVOKED: LOGIN, OUTSIDER: 403, APPROVER: 403, VIEWER: 403},
    **{OWNER: PASSED, TEAMMATE: PASSED, ADMIN: PASSED},
)
API_TEAM = TEAM.but(anonymous=401, revoked=401)
# A form only the team's authors may open.
TEAM_FORM = PAGE.but(charlie=403, dana=403, victor=403)


# One request --------------------------------------------------------------------------------

# An address outside every allowed network (TEST-NET-3), as most of the world's requests are.
REMOTE_ADDR = "203.0.113.7"


def resolve(world: Any, text: str) -> str:
    return text.format(w=world)


def body_of(write: Write, world: Any) -> Any:
    if callable(write.body):
        return write.body(world)
    if write.body is None:
        return None
    return {
        name: resolve(world, value) if isinstance(value, str) else value
        for name, value in write.body.items()
    }


def url_of(route: Route, args: Mapping[str, str], world: Any) -> str:
    """The route's URL, its parameters from ``args`` (templates naming world attributes)."""
    names = list(route.pattern.pattern.regex.groupindex)
    specs = {name: args.get(name, "") for name in names}
    missing = [name for name, spec in specs.items() if not spec]
    assert not missing, f"{route.key}: no value for {missing}; name it in the rule's args"
    values = {name: resolve(world, spec) for name, spec in specs.items()}
    if route.name:
        return reverse(route.name, kwargs=values)
    text = route.route
    for name, value in values.items():
        text = _fill(text, name, value)
    return "/" + text


def _fill(route: str, name: str, value: str) -> str:
    start = route.index("<")
    end = route.index(">", start)
    assert route[start + 1 : end].split(":")[-1] == name, (route, name)
    return route[:start] + value + route[end + 1 :]


def client_for(persona: str, route: Route, world: Any, sessions: Mapping[str, str]) -> Client:
    """A fresh client per request: a write that ends a session cannot leak into the next.

    People sign in with their session; the MLflow routes read only a Bearer token, so there
    each persona sends its own; the revoked persona sends alice's revoked token, no session.
    """
    # A 5xx is an outcome the matrix reports, not an exception that hides the others.
    client = Client(REMOTE_ADDR=REMOTE_ADDR, raise_request_exception=False)
    if persona == REVOKED:
        scheme = "Bearer" if route.is_mlflow else "Token"
        client.defaults["HTTP_AUTHORIZATION"] = f"{scheme} {world.revoked_key}"
    elif persona != ANONYMOUS and route.is_mlflow:
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {world.keys[persona]}"
    elif persona != ANONYMOUS:
        client.cookies[settings.SESSION_COOKIE_NAME] = sessions[persona]
    return client


def send(client: Client, route: Route, method: str, url: str, body: Any) -> Any:
    """GET with ``body`` as the query; the API's writes as JSON, the pages' as a form."""
    if method == "GET":
        return client.get(url, body or {})
    if route.is_api and not _has_file(body):
        data = "" if body is None else json.dumps(body)
        return client.generic(method, url, data, content_type="application/json")
    if method == "POST":
        return client.post(url, body or {})  # multipart, so a body may carry a file
    return client.generic(
        method, url, urlencode(body or {}, doseq=True), "application/x-www-form-urlencoded"
    )


def _has_file(body: Any) -> bool:
    return isinstance(body, dict) and any(isinstance(v, File) for v in body.values())


def outcome_of(response: Any) -> int | str:
    """The status, or LOGIN for a redirect to the login page."""
    if response.status_code == 302 and response["Location"].startswith(resolve_url("login")):
        return LOGIN
    return response.status_code
