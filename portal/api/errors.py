"""One error shape for the whole API: ``{"errors": {field: [messages]}}``.

Errors that belong to no field sit under ``"detail"``; the status code carries the kind.
DRF's own non-field key is set to "detail" too (REST_FRAMEWORK NON_FIELD_ERRORS_KEY).
"""

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from portal.api.conditional import Conflict, etag_for
from portal.api.parsers import PayloadTooLarge
from portal.concurrency import StaleEdit
from portal.request_limits import PARSE_ERRORS, parse_error_message

# The database cannot be reached (stopped, restarting, failing over): nothing was stored, so
# the client may send again, and prediction ids keep ingestion exact when it does.
DATABASE_DOWN = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


class DatabaseUnavailable(exceptions.APIException):
    status_code = 503
    default_detail = "The database is unavailable: nothing was stored. Send again shortly."
    default_code = "database_unavailable"


def _as_messages(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _as_messages(item) for key, item in value.items()}
    if isinstance(value, list):
        if all(isinstance(item, str) for item in value):
            return [str(item) for item in value]
        return [_as_messages(item) for item in value]
    return [str(value)]


def _non_field_under_detail(errors: dict[str, Any]) -> dict[str, Any]:
    """Django names non-field errors "__all__" (a model's clean(), a service's error dict)."""
    if NON_FIELD_ERRORS in errors:
        moved = errors.pop(NON_FIELD_ERRORS)
        errors["detail"] = [*errors.get("detail", []), *moved]
    return errors


def _as_api_exception(exc: Exception) -> Exception:
    """Services raise Django's exceptions, and Django's parsers its own; DRF wants its own."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return exceptions.ValidationError(detail)
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, StaleEdit):
        return Conflict(str(exc))
    if isinstance(exc, DATABASE_DOWN):
        return DatabaseUnavailable()
    # Limits hit while DRF parses a body (e.g. chunked, with no Content-Length to check).
    if isinstance(exc, PARSE_ERRORS):
        status, message = parse_error_message(exc)
        return PayloadTooLarge(message) if status == 413 else exceptions.ParseError(message)
    return exc


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = drf_exception_handler(_as_api_exception(exc), context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, list) or not isinstance(data, dict):
        data = {"detail": data}
    response.data = {"errors": _non_field_under_detail(_as_messages(data))}
    if isinstance(exc, StaleEdit):
        response["ETag"] = etag_for(exc.current)  # what a retry must send in If-Match
    if isinstance(exc, DATABASE_DOWN):
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
