"""Releases: requesting one, its moves, and the CD pipeline's reports on its rollout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from feedback.models import ApiKey
from portal.api.parsers import CappedJSONParser
from portal.api.people import person
from registry.models import ModelVersion
from registry.releases.api import serializers as s
from registry.releases.api.views.common import (
    PIPELINE_AUTHENTICATION,
    PIPELINE_PERMISSIONS,
    PIPELINE_THROTTLES,
    PK_PATTERN,
    RELEASE_ID,
    require_key_may_deploy,
    valid_body,
)
from registry.releases.choices import Decision, State
from registry.releases.models import Environment, ReleaseRequest
from registry.releases.queries import (
    ReleaseFilterSet,
    environments,
    release_list_queryset,
    release_queryset,
)
from registry.releases.services.approvals import decide
from registry.releases.services.deployments import (
    mark_deployed,
    mark_failed,
    promote,
    roll_back,
    start_deploying,
)
from registry.releases.services.requests import cancel_release, request_release

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
        values = valid_body(s.ReleaseCreateSerializer, request)
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
        body = valid_body(s.CommentSerializer, request)
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
        body = valid_body(s.ReasonSerializer, request)
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
        body = valid_body(s.PromoteSerializer, request)
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
        body = valid_body(s.ReasonSerializer, request)
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
        body = valid_body(s.DeploymentStatusSerializer, request)
        move = DEPLOYMENT_MOVES[body["status"]]
        # A key is the pipeline, not a person: the services record it as no actor.
        actor = None if key is not None else person(request)
        move(actor=actor, release=release, message=body["message"])
        return self._detail(release)
