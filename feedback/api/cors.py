"""CORS for the widget: a product page may call the feedback API from the origins its key
lists, and from nowhere else.

The preflight carries no key, so it is answered for any origin that some active key with
``feedback:write`` lists; the request itself is then checked against its own key's origins
(``authentication.ApiKeyAuthentication``), and only an allowed origin gets the
``Access-Control-Allow-Origin`` header on the answer.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from rest_framework.request import Request
from rest_framework.response import Response

from feedback.models import ApiKey, Scope

MAX_AGE = 600


def origin_is_listed(origin: str) -> bool:
    """Whether an active feedback key lists ``origin``; browser keys are few, so they are
    read and matched here rather than with a JSON lookup SQLite lacks."""
    keys = ApiKey.objects.filter(revoked_at__isnull=True).exclude(allowed_origins=[])
    return any(
        Scope.FEEDBACK in key.scopes and origin in key.allowed_origins
        for key in keys.only("scopes", "allowed_origins")
    )


class KeyOriginCors:
    """Mix into an APIView: preflights and answers carry CORS headers for allowed origins."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # A preflight never carries the key: answer it before authentication would refuse it.
        if request.method == "OPTIONS":
            return
        super().initial(request, *args, **kwargs)  # type: ignore[misc]

    def options(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        origin = request.headers.get("Origin", "")
        response = HttpResponse(status=204)
        if origin and origin_is_listed(origin):
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
            response["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
            response["Access-Control-Max-Age"] = str(MAX_AGE)
            response["Vary"] = "Origin"
        return response

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        origin = request.headers.get("Origin")
        key = request.auth
        if origin and isinstance(key, ApiKey) and origin in key.allowed_origins:
            response["Access-Control-Allow-Origin"] = origin
            response["Vary"] = "Origin"
        return response
