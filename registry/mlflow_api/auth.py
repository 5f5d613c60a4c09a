"""Who is calling: the MLflow client's Bearer token or Basic credentials, never anonymous.

``MLFLOW_TRACKING_TOKEN`` is a Handoff personal token (``Authorization: Bearer <key>``): a
read-only token reads only, as on the native API. A scoped API key is accepted for reading
with its ``read`` scope; it stands for a service, not a person, so it never logs.
``MLFLOW_TRACKING_USERNAME``/``PASSWORD`` sign in as that person, with the login page's
throttle on failures.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils import timezone

from feedback.models import Scope
from feedback.services import keys
from portal.login import note_failure, throttled
from portal.models import PersonalToken
from portal.people import Person
from portal.services import tokens
from registry.mlflow_api.errors import MlflowError


@dataclass(frozen=True)
class Caller:
    person: Person | None  # None for a scoped API key
    may_write: bool
    key_id: int | None = None  # the scoped API key's, for its own rate budget

    def writer(self) -> Person:
        """The person a write acts for; PERMISSION_DENIED for a read-only caller."""
        if self.person is None:
            raise MlflowError(
                "PERMISSION_DENIED",
                "An API key may only read here: log with a personal token "
                "(MLFLOW_TRACKING_TOKEN) of a Data scientist or Engineer.",
            )
        if not self.may_write:
            raise MlflowError(
                "PERMISSION_DENIED",
                "This token is read-only: create a read-and-write token to log.",
            )
        return self.person


def caller(request: HttpRequest) -> Caller:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        return _bearer(credentials)
    if scheme.lower() == "basic" and credentials:
        return _basic(request, credentials)
    raise MlflowError(
        "UNAUTHENTICATED",
        "Sign in: set MLFLOW_TRACKING_TOKEN to a Handoff personal token "
        "(or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD).",
    )


def _bearer(secret: str) -> Caller:
    now = timezone.now()
    token = tokens.active_token(secret)
    if token is not None:
        tokens.note_use(token, now)
        return Caller(token.user, token.scope == PersonalToken.Scope.WRITE)
    key = keys.active_key(secret)
    if key is not None and Scope.READ in key.scopes:
        keys.note_use(key, now)
        return Caller(None, False, key.pk)
    raise MlflowError("UNAUTHENTICATED", "Invalid or revoked token.")


def _basic(request: HttpRequest, credentials: str) -> Caller:
    try:
        username, _, password = base64.b64decode(credentials).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise MlflowError("UNAUTHENTICATED", "Malformed Basic credentials.") from None
    if throttled(request, username):
        raise MlflowError(
            "UNAUTHENTICATED", "Too many failed sign-ins. Wait a few minutes and try again."
        )
    user = authenticate(request, username=username, password=password)
    if user is None:
        note_failure(request, username)
        raise MlflowError("UNAUTHENTICATED", "Wrong username or password.")
    return Caller(user, True)
