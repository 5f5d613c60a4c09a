"""What every MLflow endpoint does around its work: sign the caller in, read the request,
and answer in MLflow's shape.

The endpoints are plain Django views, not DRF's: the wire format is MLflow's (its error
shape, GET parameters and JSON bodies, raw artifact bodies), and the stock client is the
only caller. Authentication is the client's (``auth.caller``); CSRF does not apply, as no
cookie is read.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from portal.api.throttling import WindowRateThrottle
from registry.mlflow_api.auth import Caller, caller
from registry.mlflow_api.errors import MlflowError, as_mlflow, invalid

logger = logging.getLogger("handoff.mlflow")

View = Callable[..., HttpResponseBase | dict[str, Any]]


class Call:
    """One request as an endpoint sees it: who, and the fields sent (query or JSON body)."""

    def __init__(self, request: HttpRequest, who: Caller, fields: dict[str, Any]) -> None:
        self.request, self.who, self.fields = request, who, fields

    def writer(self) -> Any:
        return self.who.writer()

    def text(self, name: str, *, required: bool = True, default: str = "") -> str:
        value = self.fields.get(name)
        if value is None or value == "":
            if required:
                raise invalid(f"Missing value for required parameter '{name}'.")
            return default
        if not isinstance(value, str):
            raise invalid(f"Invalid value {value!r} for parameter '{name}': expected a string.")
        return value

    def either(self, *names: str) -> str:
        """The first of ``names`` that was sent (``run_id`` or the older ``run_uuid``)."""
        for name in names:
            if self.fields.get(name) not in (None, ""):
                return self.text(name)
        raise invalid(f"Missing value for required parameter '{names[0]}'.")

    def integer(self, name: str, *, default: int | None = None, low: int = 0) -> int | None:
        value = self.fields.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise invalid(f"Invalid value {value!r} for parameter '{name}': expected an integer.")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise invalid(
                f"Invalid value {value!r} for parameter '{name}': expected an integer."
            ) from None
        if number < low:
            raise invalid(f"Invalid value {number} for parameter '{name}': below {low}.")
        return number

    def items(self, name: str) -> list[Any]:
        value = self.fields.get(name) or []
        if not isinstance(value, list):
            raise invalid(f"Invalid value for parameter '{name}': expected a list.")
        return value

    def tags(self, name: str = "tags") -> dict[str, str]:
        pairs: dict[str, str] = {}
        for index, tag in enumerate(self.items(name)):
            if not isinstance(tag, dict) or not isinstance(tag.get("key"), str):
                raise invalid(f"{name}[{index}]: expected an object with key and value.")
            pairs[tag["key"]] = "" if tag.get("value") is None else str(tag["value"])
        return pairs


def endpoint(*methods: str, body: bool = True) -> Callable[[View], Callable[..., HttpResponseBase]]:
    """An MLflow endpoint answering ``methods``; ``body=False`` leaves the body unread (for
    artifact uploads, which stream it)."""

    def wrap(view: View) -> Callable[..., HttpResponseBase]:
        @csrf_exempt
        @login_not_required  # the client signs in on every call (auth.caller), never by cookie
        @wraps(view)
        def handle(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            try:
                if request.method not in methods:
                    raise MlflowError(
                        "ENDPOINT_NOT_FOUND",
                        f"{request.method} is not allowed here; use {' or '.join(methods)}.",
                    )
                who = caller(request)
                _throttle(request, who)
                fields = _fields(request) if body else dict(request.GET.items())
                answer = view(Call(request, who, fields), *args, **kwargs)
            except Exception as exc:
                error = as_mlflow(exc)
                if error is None:
                    raise
                return error.response()
            if isinstance(answer, HttpResponseBase):
                return answer
            return JsonResponse(answer)

        return handle

    return wrap


class MlflowRateThrottle(WindowRateThrottle):
    """Each caller's budget on the MLflow API (``mlflow`` in DRF's rates): training loops
    log often, so it is its own, apart from the native API's."""

    scope = "mlflow"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": request.handoff_caller}


def _throttle(request: HttpRequest, who: Caller) -> None:
    person = who.person
    request.handoff_caller = f"user-{person.pk}" if person else f"key-{who.key_id}"  # type: ignore[attr-defined]
    throttle = MlflowRateThrottle()
    if not throttle.allow_request(request, None):  # type: ignore[arg-type]
        wait = int(throttle.wait() or 1) + 1
        raise MlflowError(
            "REQUEST_LIMIT_EXCEEDED",
            f"Too many requests: try again in {wait} seconds.",
            retry_after=wait,
        )


def _fields(request: HttpRequest) -> dict[str, Any]:
    """GET and DELETE send fields in the query; the others a JSON object (or nothing)."""
    if request.method in ("GET", "DELETE") and not request.headers.get("Content-Length"):
        return _query(request)
    try:
        raw = request.body
    except RequestDataTooBig:
        raise MlflowError(
            "INVALID_PARAMETER_VALUE",
            f"The request body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes.",
        ) from None
    if not raw.strip():
        return _query(request)
    try:
        fields = json.loads(raw)
    except (ValueError, RecursionError):
        raise MlflowError("MALFORMED_REQUEST", "The request body is not valid JSON.") from None
    if not isinstance(fields, dict):
        raise MlflowError("MALFORMED_REQUEST", "The request body must be a JSON object.")
    return {**_query(request), **fields}


def _query(request: HttpRequest) -> dict[str, Any]:
    """Query parameters; a repeated one (``experiment_ids=1&experiment_ids=2``) as a list."""
    fields: dict[str, Any] = {}
    for name, values in request.GET.lists():
        fields[name] = values if len(values) > 1 or name.endswith("_ids") else values[0]
    return fields
