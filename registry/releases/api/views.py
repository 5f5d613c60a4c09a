"""The releases API: environments, what runs where (for the CD pipeline), release requests
and their moves, the pipeline's deployment callbacks, and release webhooks.

Views parse the request, call one service and show the result: every rule (who may decide,
distinct approvers, the checklist, which state a release may move to) is the services',
so the API, the pages and any other client obey the same ones. Everyone signed in reads.
The CD pipeline authenticates with a model's API key that has the ``deployments:write``
scope (``Authorization: ApiKey <key>``); people with a personal token or a session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, generics, mixins, serializers, status, viewsets
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from feedback.api.authentication import ApiKeyAuthentication
from feedback.api.permissions import KeyOrPerson
from feedback.api.throttles import ApiKeyRateThrottle, PersonRateThrottle
from feedback.models import ApiKey, Scope
from feedback.services.access import Caller
from portal.api.authentication import PersonalTokenAuthentication
from portal.api.parsers import CappedJSONParser
from portal.api.people import person
from portal.api.permissions import TokenScopePermission
from portal.models import Team
from portal.webhooks.models import WebhookDelivery
from registry.models import ModelVersion, RegisteredModel
from registry.releases.api import serializers as s
from registry.releases.choices import Decision, State, Strategy
from registry.releases.models import Deployment, Environment, ReleaseRequest, ReleaseWebhook
from registry.releases.queries import (
    ReleaseFilterSet,
    environments,
    release_list_queryset,
    release_queryset,
)
from registry.releases.services import webhooks
from registry.releases.services.approvals import decide
from registry.releases.services.deployments import (
    current_deployment,
    mark_deployed,
    mark_failed,
    promote,
    roll_back,
    start_deploying,
)
from registry.releases.services.requests import cancel_release, request_release

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

REQUEST_EXAMPLE = OpenApiExample(
    "A canary release to production",
    value={
        "model": "churn-risk",
        "version": "1.2.0",
        "environment": "production",
        "strategy": "canary",
        "canary_steps": [5, 25, 100],
        "serving_mode": "realtime",
        "justification": "Recall up 4 points on the Q3 hold-out; gates pass.",
        "rollback_plan": "Roll back to 1.1.0 from the release page.",
    },
    request_only=True,
)
STATUS_EXAMPLE = OpenApiExample(
    "The rollout succeeded",
    value={"status": "succeeded", "message": "Deployed by pipeline run 4711."},
    request_only=True,
)


def require_key_may_deploy(key: ApiKey, model: RegisteredModel) -> None:
    """403 unless the key has the deployments:write scope and covers ``model``."""
    if not Caller(key=key).may(Scope.DEPLOYMENTS, model):
        raise exceptions.PermissionDenied(
            f"This key may not read or report deployments of {model.name}: it needs the "
            f"{Scope.DEPLOYMENTS} scope, for this model or its team."
        )


# Environments and what runs there ---------------------------------------------------------


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


# Releases ---------------------------------------------------------------------------------

LIST_FILTERS = [
    OpenApiParameter("state", str, enum=State.values, description="One state."),
    OpenApiParameter("environment", str, description="An environment's name."),
    OpenApiParameter("model", str, description="A model's name."),
    OpenApiParameter(
        "waiting_for_me", bool, description="Pending requests I may decide and have not."
    ),
]


def _bad_filters(filterset: ReleaseFilterSet) -> exceptions.ValidationError:
    return exceptions.ValidationError(
        {name: [str(error) for error in errors] for name, errors in filterset.errors.items()}
    )


Move = Callable[..., ReleaseRequest]
DEPLOYMENT_MOVES: dict[str, Move] = {
    "started": start_deploying,
    "succeeded": mark_deployed,
    "failed": mark_failed,
}


@extend_schema_view(
    list=extend_schema(
        summary="Release requests, newest first, with the list page's filters",
        parameters=LIST_FILTERS,
        responses=s.ReleaseRowSerializer(many=True),
    ),
    retrieve=extend_schema(
        summary="One release: its checklist snapshot, approvals and canary steps",
        parameters=[RELEASE_ID],
    ),
    create=extend_schema(
        summary="Request a release of a version to an environment",
        request=s.ReleaseCreateSerializer,
        responses={
            201: s.ReleaseSerializer,
            400: OpenApiResponse(
                description="A field, or the checklist: its failing checks under 'checklist'"
            ),
            403: OpenApiResponse(description="Not a Data scientist or Engineer of the team"),
        },
        examples=[REQUEST_EXAMPLE],
    ),
)
class ReleaseViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[ReleaseRequest]
):
    serializer_class = s.ReleaseSerializer
    parser_classes = [CappedJSONParser]
    # The list's FilterSet needs the person ("waiting for me"): applied in ``list``.
    filter_backends: list[Any] = []
    lookup_url_kwarg = "release_id"
    lookup_value_regex = PK_PATTERN

    def get_queryset(self) -> QuerySet[ReleaseRequest]:
        return release_list_queryset() if self.action == "list" else release_queryset()

    def _detail(self, release: ReleaseRequest, code: int = status.HTTP_200_OK) -> Response:
        fresh = release_queryset().get(pk=release.pk)
        data = s.ReleaseSerializer(fresh, context=self.get_serializer_context()).data
        return Response(data, status=code)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filterset = ReleaseFilterSet(
            request.query_params,
            queryset=release_list_queryset(),
            person=person(request),
            environments=environments(),
        )
        if not filterset.is_valid():
            raise _bad_filters(filterset)
        page = self.paginate_queryset(filterset.qs)
        context = self.get_serializer_context()
        data = s.ReleaseRowSerializer(page, many=True, context=context).data
        return self.get_paginated_response(data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        values = _valid(s.ReleaseCreateSerializer, request)
        model = values.pop("model")
        version = (
            ModelVersion.objects.select_related("model__team")
            .filter(model__name=model, version=values["version"])
            .first()
        )
        if version is None:
            raise exceptions.ValidationError(
                {"version": [f"No version {values['version']} of {model}."]}
            )
        values.pop("version")
        name = values.pop("environment")
        environment = Environment.objects.filter(name=name).first()
        if environment is None:
            raise exceptions.ValidationError({"environment": [f"No environment is named {name}."]})
        release = request_release(
            actor=person(request), version=version, environment=environment, **values
        )
        return self._detail(release, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Approve a release (never one's own; each person counts once)",
        request=s.CommentSerializer,
        responses={200: s.ReleaseSerializer, 403: OpenApiResponse(description="Not allowed")},
        parameters=[RELEASE_ID],
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, **kwargs: Any) -> Response:
        return self._decide(request, Decision.APPROVE)

    @extend_schema(
        summary="Reject a release, saying why (any rejection rejects it)",
        request=s.CommentSerializer,
        responses={200: s.ReleaseSerializer, 403: OpenApiResponse(description="Not allowed")},
        parameters=[RELEASE_ID],
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, **kwargs: Any) -> Response:
        return self._decide(request, Decision.REJECT)

    def _decide(self, request: Request, decision: str) -> Response:
        release = self.get_object()
        body = _valid(s.CommentSerializer, request)
        decide(
            actor=person(request),
            release=release,
            decision=decision,
            comment=body["comment"],
        )
        return self._detail(release)

    @extend_schema(
        summary="Cancel a pending or approved release (the requester or the model's team)",
        request=s.ReasonSerializer,
        responses=s.ReleaseSerializer,
        parameters=[RELEASE_ID],
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, **kwargs: Any) -> Response:
        release = self.get_object()
        body = _valid(s.ReasonSerializer, request)
        cancel_release(actor=person(request), release=release, reason=body["reason"])
        return self._detail(release)

    @extend_schema(
        summary="Move a running canary or shadow release to its next traffic share",
        request=s.PromoteSerializer,
        responses={
            200: s.ReleaseSerializer,
            400: OpenApiResponse(
                description="Not a running canary, or a guarding metric is worse and no "
                "override_reason was given"
            ),
        },
        parameters=[RELEASE_ID],
    )
    @action(detail=True, methods=["post"])
    def promote(self, request: Request, **kwargs: Any) -> Response:
        release = self.get_object()
        body = _valid(s.PromoteSerializer, request)
        promote(
            actor=person(request),
            release=release,
            override_reason=body["override_reason"],
        )
        return self._detail(release)

    @extend_schema(
        summary="Roll a deployed release back: the environment returns to what ran before",
        request=s.ReasonSerializer,
        responses=s.ReleaseSerializer,
        parameters=[RELEASE_ID],
    )
    @action(detail=True, methods=["post"])
    def rollback(self, request: Request, **kwargs: Any) -> Response:
        release = self.get_object()
        body = _valid(s.ReasonSerializer, request)
        roll_back(actor=person(request), release=release, reason=body["reason"])
        return self._detail(release)

    @extend_schema(
        summary="The CD pipeline's report on a rollout: started, succeeded or failed",
        request=s.DeploymentStatusSerializer,
        responses={
            200: s.ReleaseSerializer,
            400: OpenApiResponse(description="The release's state does not allow it"),
            403: OpenApiResponse(
                description="The key lacks the deployments:write scope or covers other models, "
                "or the person may not deploy"
            ),
        },
        parameters=[RELEASE_ID],
        examples=[STATUS_EXAMPLE],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="deployment-status",
        authentication_classes=PIPELINE_AUTHENTICATION,
        permission_classes=PIPELINE_PERMISSIONS,
        throttle_classes=PIPELINE_THROTTLES,
    )
    def deployment_status(self, request: Request, **kwargs: Any) -> Response:
        release = self.get_object()
        key = request.auth if isinstance(request.auth, ApiKey) else None
        if key is not None:
            require_key_may_deploy(key, release.version.model)
        body = _valid(s.DeploymentStatusSerializer, request)
        move = DEPLOYMENT_MOVES[body["status"]]
        # A key is the pipeline, not a person: the services record it as no actor.
        actor = None if key is not None else person(request)
        move(actor=actor, release=release, message=body["message"])
        return self._detail(release)


# Webhooks ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The release webhooks I may configure"),
    create=extend_schema(
        summary="Send release events to a URL: for a team's models, or for an environment",
        request=s.ReleaseWebhookCreateSerializer,
        responses={201: s.ReleaseWebhookSerializer},
    ),
    destroy=extend_schema(summary="Stop sending to a webhook", parameters=[WEBHOOK_ID]),
)
class ReleaseWebhookViewSet(
    mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet[ReleaseWebhook]
):
    serializer_class = s.ReleaseWebhookSerializer
    parser_classes = [CappedJSONParser]
    lookup_url_kwarg = "webhook_id"
    lookup_value_regex = PK_PATTERN

    def get_queryset(self) -> QuerySet[ReleaseWebhook]:
        if getattr(self, "swagger_fake_view", False):
            return ReleaseWebhook.objects.none()
        if self.action == "destroy":  # someone else's: a 403 from the service, not a 404
            return ReleaseWebhook.objects.select_related("team", "environment")
        return webhooks.visible_webhooks(person(self.request))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        values = _valid(s.ReleaseWebhookCreateSerializer, request)
        team = environment = None
        if values["team"] is not None:
            team = Team.objects.filter(slug=values["team"]).first()
            if team is None:
                raise exceptions.ValidationError({"team": [f"No team is named {values['team']}."]})
        else:
            environment = Environment.objects.filter(name=values["environment"]).first()
            if environment is None:
                message = f"No environment is named {values['environment']}."
                raise exceptions.ValidationError({"environment": [message]})
        hook = webhooks.add_webhook(
            actor=person(request),
            team=team,
            environment=environment,
            url=values["url"],
            events=values["events"],
        )
        data = self.get_serializer(ReleaseWebhook.objects.get(pk=hook.pk)).data
        return Response(data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ReleaseWebhook) -> None:
        webhooks.remove_webhook(actor=person(self.request), webhook=instance)


@extend_schema_view(
    list=extend_schema(summary="Release webhook deliveries I may resend, newest first"),
)
class WebhookDeliveryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[WebhookDelivery]):
    serializer_class = s.WebhookDeliverySerializer
    parser_classes = [CappedJSONParser]
    lookup_url_kwarg = "delivery_id"
    lookup_value_regex = PK_PATTERN

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        if getattr(self, "swagger_fake_view", False):
            return WebhookDelivery.objects.none()
        if self.action == "resend":  # someone else's: a 403 from the service, not a 404
            return webhooks.release_deliveries()
        return webhooks.visible_deliveries(person(self.request))

    @extend_schema(
        summary="Queue a failed delivery again, with fresh attempts",
        request=None,
        responses={
            202: s.WebhookDeliverySerializer,
            400: OpenApiResponse(description="The delivery has not failed"),
        },
        parameters=[DELIVERY_ID],
    )
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, **kwargs: Any) -> Response:
        delivery = self.get_object()
        queued = webhooks.resend_delivery(actor=person(request), delivery=delivery)
        data = self.get_serializer(WebhookDelivery.objects.get(pk=queued.pk)).data
        return Response(data, status=status.HTTP_202_ACCEPTED)


def _valid(serializer: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The request's body as ``serializer`` validates it; a 400 naming each field if not."""
    body = serializer(data=request.data)
    body.is_valid(raise_exception=True)
    return dict(body.validated_data)
