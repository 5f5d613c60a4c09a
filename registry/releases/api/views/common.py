"""Pieces every part of the releases API shares: ids in paths, how the CD pipeline
authenticates (an API key with the ``deployments:write`` scope, or a person), and reading a
request's body through a serializer.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, serializers
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.request import Request

from feedback.api.authentication import ApiKeyAuthentication
from feedback.api.permissions import KeyOrPerson
from feedback.api.throttles import ApiKeyRateThrottle, PersonRateThrottle
from feedback.models import ApiKey, Scope
from feedback.services.access import Caller
from portal.api.authentication import PersonalTokenAuthentication
from portal.api.permissions import TokenScopePermission
from registry.models import RegisteredModel

# Ids in paths: up to 18 digits, so a longer one is a 404 before it reaches a (64-bit) column.
PK_PATTERN = r"[0-9]{1,18}"
RELEASE_ID = OpenApiParameter("release_id", OpenApiTypes.INT, OpenApiParameter.PATH)
WEBHOOK_ID = OpenApiParameter("webhook_id", OpenApiTypes.INT, OpenApiParameter.PATH)
DELIVERY_ID = OpenApiParameter("delivery_id", OpenApiTypes.INT, OpenApiParameter.PATH)

# The CD pipeline's endpoints take an API key as well as a person.
PIPELINE_AUTHENTICATION: list[type[BaseAuthentication]] = [
    ApiKeyAuthentication,
    PersonalTokenAuthentication,
    SessionAuthentication,
]
PIPELINE_PERMISSIONS = [KeyOrPerson, TokenScopePermission]
PIPELINE_THROTTLES = [ApiKeyRateThrottle, PersonRateThrottle]


def require_key_may_deploy(key: ApiKey, model: RegisteredModel) -> None:
    """403 unless the key has the deployments:write scope and covers ``model``."""
    if not Caller(key=key).may(Scope.DEPLOYMENTS, model):
        raise exceptions.PermissionDenied(
            f"This key may not read or report deployments of {model.name}: it needs the "
            f"{Scope.DEPLOYMENTS} scope, for this model or its team."
        )


def valid_body(serializer: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The request's body as ``serializer`` validates it; a 400 naming each field if not."""
    body = serializer(data=request.data)
    body.is_valid(raise_exception=True)
    return dict(body.validated_data)
