"""Environments and what runs there."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from feedback.models import ApiKey
from registry.models import ModelVersion, RegisteredModel
from registry.releases.api import serializers as s
from registry.releases.api.views.common import (
    PIPELINE_AUTHENTICATION,
    PIPELINE_PERMISSIONS,
    PIPELINE_THROTTLES,
    require_key_may_deploy,
)
from registry.releases.choices import State, Strategy
from registry.releases.models import Deployment, Environment, ReleaseRequest
from registry.releases.services.deployments import current_deployment


@extend_schema_view(get=extend_schema(summary="Environments and what a release into each needs"))
class EnvironmentListView(generics.ListAPIView[Environment]):
    serializer_class = s.EnvironmentSerializer
    queryset = Environment.objects.all()


def running(
    request: Request, version: ModelVersion, release: ReleaseRequest | None, traffic: int
) -> dict[str, Any]:
    """What the pipeline needs to roll ``version`` out (its artifact is one more query)."""
    artifact = getattr(version, "artifact", None)
    download = None
    if artifact is not None:
        kwargs = {"model_name": version.model.name, "version": version.version}
        download = reverse("registry-api:version-artifact-download", kwargs=kwargs, request=request)
    return {
        "version": version.version,
        "version_status": version.status,
        "artifact_url": download,
        "sha256": artifact.sha256 if artifact is not None else None,
        "size": artifact.size if artifact is not None else None,
        "contract": {"input_schema": version.input_schema, "output_schema": version.output_schema},
        "release": release.pk if release is not None else None,
        "release_url": s.release_api_url(release.pk, request) if release is not None else None,
        "strategy": release.strategy if release is not None else None,
        "serving_mode": release.serving_mode if release is not None else None,
        "traffic_percent": traffic,
    }


def running_canary(environment: Environment, model: RegisteredModel) -> ReleaseRequest | None:
    """A canary or shadow release of ``model`` serving next to the current deployment."""
    return (
        ReleaseRequest.objects.filter(
            environment=environment,
            version__model=model,
            state=State.DEPLOYED,
            traffic_percent__lt=100,
        )
        .exclude(strategy=Strategy.FULL)
        .select_related("version__model")
        .order_by("-deployed_at", "-pk")
        .first()
    )


def what_runs(
    request: Request, environment: Environment, model: RegisteredModel
) -> dict[str, Any] | None:
    deployment: Deployment | None = current_deployment(environment, model)
    canary = running_canary(environment, model)
    if deployment is None and canary is None:
        return None
    current = None
    if deployment is not None:
        deployment.version.model = model
        share = 100
        if canary is not None and canary.strategy == Strategy.CANARY:
            share -= canary.traffic_percent
        current = running(request, deployment.version, deployment.release, share)
        current["since"] = deployment.started_at
    shown = None
    if canary is not None:
        shown = running(request, canary.version, canary, canary.traffic_percent)
        shown["since"] = canary.deployed_at
    return {
        "environment": environment.name,
        "model": model.name,
        "current": current,
        "canary": shown,
    }


class WhatRunsView(APIView):
    """What should run for a model in an environment now: for the CD pipeline (an API key
    with the deployments:write scope for the model) and for people."""

    authentication_classes = PIPELINE_AUTHENTICATION
    permission_classes = PIPELINE_PERMISSIONS
    throttle_classes = PIPELINE_THROTTLES
    serializer_class = s.WhatRunsSerializer

    @extend_schema(
        summary="What should run for a model in an environment now",
        responses={
            200: s.WhatRunsSerializer,
            403: OpenApiResponse(description="The key lacks the scope, or covers other models"),
            404: OpenApiResponse(description="No such environment or model, or nothing runs"),
        },
    )
    def get(self, request: Request, environment_name: str, model_name: str) -> Response:
        found_env = Environment.objects.filter(name=environment_name).first()
        if found_env is None:
            raise exceptions.NotFound(f"No environment is named {environment_name}.")
        found = RegisteredModel.objects.filter(name=model_name).first()
        if found is None:
            raise exceptions.NotFound(f"No model is named {model_name}.")
        if isinstance(request.auth, ApiKey):
            require_key_may_deploy(request.auth, found)
        data = what_runs(request, found_env, found)
        if data is None:
            raise exceptions.NotFound(
                f"Nothing runs in {found_env.name} for {found.name}: no release of it has been "
                "deployed there."
            )
        return Response(s.WhatRunsSerializer(data).data)
