"""MLflow's error shape, ``{"error_code": ..., "message": ...}``, with its HTTP statuses.

The services raise Django's exceptions; ``as_mlflow`` says each in MLflow's words, so the
stock client raises the MlflowException its callers already handle (``get-by-name``'s
RESOURCE_DOES_NOT_EXIST is how ``set_experiment`` learns to create one).
"""

from __future__ import annotations

from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    SuspiciousOperation,
    ValidationError,
)
from django.http import JsonResponse

from portal.api.errors import DATABASE_DOWN, RETRY_AFTER_SECONDS
from registry.experiments.services.runs import ParamChanged

STATUS = {
    "BAD_REQUEST": 400,
    "MALFORMED_REQUEST": 400,
    "INVALID_PARAMETER_VALUE": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "TEMPORARILY_UNAVAILABLE": 503,
}


class MlflowError(Exception):
    def __init__(self, code: str, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.retry_after = code, message, retry_after

    def response(self) -> JsonResponse:
        body = {"error_code": self.code, "message": self.message}
        response = JsonResponse(body, status=STATUS.get(self.code, 400))
        if self.code == "UNAUTHENTICATED":
            response["WWW-Authenticate"] = 'Bearer realm="handoff", Basic realm="handoff"'
        if self.retry_after is not None:
            response["Retry-After"] = str(self.retry_after)
        return response


def invalid(message: str) -> MlflowError:
    return MlflowError("INVALID_PARAMETER_VALUE", message)


def missing(message: str) -> MlflowError:
    return MlflowError("RESOURCE_DOES_NOT_EXIST", message)


def as_mlflow(exc: Exception) -> MlflowError | None:
    """The MLflow error for a service's exception, or None when it is not the caller's fault."""
    if isinstance(exc, MlflowError):
        return exc
    if isinstance(exc, PermissionDenied):
        return MlflowError("PERMISSION_DENIED", str(exc) or "Permission denied.")
    if isinstance(exc, ObjectDoesNotExist):
        return missing(str(exc) or "Not found.")
    if isinstance(exc, ParamChanged):
        return invalid(
            f"Changing param values is not allowed. Param with key={exc.key!r} was already "
            f"logged with value={exc.logged!r}; the new value is {exc.sent!r}."
        )
    if isinstance(exc, DATABASE_DOWN):  # the client retries a 503 with back-off
        return MlflowError(
            "TEMPORARILY_UNAVAILABLE",
            "The database is unavailable: nothing was stored. Send again shortly.",
            retry_after=RETRY_AFTER_SECONDS,
        )
    if isinstance(exc, SuspiciousOperation):
        return invalid(str(exc) or "The request was refused as suspicious.")
    if isinstance(exc, ValidationError):
        return invalid(_validation_text(exc))
    return None


def _validation_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        parts = []
        for field, errors in exc.message_dict.items():
            parts.append(f"{field}: {' '.join(errors)}")
        return "; ".join(parts)
    return " ".join(exc.messages)
