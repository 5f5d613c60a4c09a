"""Request limits at the boundary, refused in the documented error shape.

``RequestLimitMiddleware`` refuses, before any view reads the request:

- a body whose declared Content-Length is over its cap (413). Multipart may carry files and
  gets the upload cap of ``portal.uploads``; every other body gets DATA_UPLOAD_MAX_MEMORY_SIZE;
- a query parameter whose name or value holds text PostgreSQL cannot store (400);
- for pages, a form Django refuses while parsing: too many fields, or multipart text fields
  over the body cap. Parsed here so the answer is a page with the message, not a bare 400.

API views parse their bodies in DRF, with their own parsers; ``portal.api.errors`` maps the
same Django exceptions there. API paths get ``{"errors": ...}``, pages an HTML page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.http.response import HttpResponseBase
from django.shortcuts import render

from portal.text import unstorable_char
from portal.uploads import FRAMING_ALLOWANCE, limit_message, upload_limit

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def body_limit() -> int | None:
    """DATA_UPLOAD_MAX_MEMORY_SIZE (HANDOFF_MAX_REQUEST_BODY_BYTES); None means no cap."""
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def body_limit_message() -> str:
    return (
        "The request body, not counting files, is larger than the limit of "
        f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes."
    )


def too_many_fields_message() -> str:
    return (
        "The request sends more than the limit of "
        f"{settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} fields or parameters."
    )


def too_many_files_message() -> str:
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
    return f"The request sends more than the limit of {limit:,} files."


# What Django raises while parsing a body it refuses (the limits are SuspiciousOperations).
PARSE_ERRORS = (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
    MultiPartParserError,
    BadRequest,
)


def parse_error_message(exc: Exception) -> tuple[int, str]:
    """Status and message for one of ``PARSE_ERRORS``."""
    if isinstance(exc, RequestDataTooBig):
        return 413, body_limit_message()
    if isinstance(exc, TooManyFieldsSent):
        return 400, too_many_fields_message()
    if isinstance(exc, TooManyFilesSent):
        return 400, too_many_files_message()
    return 400, f"The request body could not be read: {exc}"


def declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def refusal(request: HttpRequest, status: int, message: str, field: str = "detail") -> HttpResponse:
    """The error shape for the API, an HTML page with the message for everything else."""
    if request.path.startswith("/api/"):
        return JsonResponse({"errors": {field: [message]}}, status=status)
    template = "413.html" if status == 413 else "400.html"
    return render(request, template, {"message": message}, status=status)


class RequestLimitMiddleware:
    """Body caps, form limits and query text, checked in ``process_view``.

    ``process_view`` runs after every middleware's ``__call__`` (so pages render with
    ``request.user``) and, this class being listed before CsrfViewMiddleware, before CSRF
    reads ``request.POST``: a limit hit there would become Django's bare 400.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        return (
            self._check_length(request)
            or self._check_query(request)
            or self._check_page_form(request)
        )

    @staticmethod
    def _check_length(request: HttpRequest) -> HttpResponse | None:
        multipart = request.content_type == "multipart/form-data"
        limit = upload_limit() + FRAMING_ALLOWANCE if multipart else body_limit()
        if limit is None or declared_length(request) <= limit:
            return None
        response = refusal(request, 413, limit_message() if multipart else body_limit_message())
        # The client may still be sending the body; do not keep the connection for reuse.
        # wsgiref (runserver) refuses hop-by-hop headers from the app and closes by itself.
        if not request.META.get("SERVER_SOFTWARE", "").startswith("WSGIServer/"):
            response["Connection"] = "close"
        return response

    @staticmethod
    def _check_query(request: HttpRequest) -> HttpResponse | None:
        try:
            parameters = list(request.GET.lists())
        except TooManyFieldsSent:
            return refusal(request, 400, too_many_fields_message())
        # Django replaces invalid UTF-8 (so surrogates) with U+FFFD, but passes %00 through.
        for name, values in parameters:
            problem = unstorable_char(name)
            if problem is not None:
                return refusal(request, 400, f"A query parameter name {problem}.")
            for value in values:
                problem = unstorable_char(value)
                if problem is not None:
                    message = f'The query parameter "{name}" {problem}.'
                    return refusal(request, 400, message, field=name)
        return None

    @staticmethod
    def _check_page_form(request: HttpRequest) -> HttpResponse | None:
        if request.path.startswith("/api/") or request.method != "POST":
            return None
        if request.content_type not in FORM_TYPES:
            return None
        try:
            request.POST  # noqa: B018 - parse now, where a refusal can still name the limit
        except PARSE_ERRORS as exc:
            status, message = parse_error_message(exc)
            return refusal(request, status, message)
        return None
