"""One error shape for the whole API: ``{"errors": {field: [messages]}}``.

Errors that belong to no field sit under ``"detail"``; the status code carries the kind.
"""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def _as_messages(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _as_messages(item) for key, item in value.items()}
    if isinstance(value, list):
        if all(isinstance(item, str) for item in value):
            return [str(item) for item in value]
        return [_as_messages(item) for item in value]
    return [str(value)]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # Services raise Django's exceptions; the API turns them into DRF's.
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, list) or not isinstance(data, dict):
        data = {"detail": data}
    response.data = {"errors": _as_messages(data)}
    return response
