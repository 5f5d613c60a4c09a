"""The iterations API: list, plan one, read one, keep its review and retrospective notes."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api.conditional import if_match_revision, with_etag
from portal.api.parsers import CappedJSONParser
from portal.api.people import person
from portal.api.permissions import TokenScopePermission
from portal.backlog.api import serializers as s
from portal.backlog.api.permissions import CanChangeBacklog
from portal.backlog.api.views import PK_PATTERN
from portal.backlog.models import Iteration
from portal.backlog.services.iterations import create_iteration, update_iteration_notes

ITERATION_ID = OpenApiParameter("iteration_id", OpenApiTypes.INT, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(summary="Iterations, latest start first"),
    retrieve=extend_schema(summary="One iteration", parameters=[ITERATION_ID]),
    create=extend_schema(
        summary="Plan an iteration for your team",
        request=s.IterationCreateSerializer,
        responses={201: s.IterationSerializer},
    ),
    partial_update=extend_schema(
        summary="Change the review and/or retrospective notes (If-Match for a safe edit)",
        request=s.IterationNotesSerializer,
        parameters=[ITERATION_ID],
    ),
)
class IterationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Iteration]
):
    serializer_class = s.IterationSerializer
    permission_classes = [IsAuthenticated, TokenScopePermission, CanChangeBacklog]
    parser_classes = [CappedJSONParser]
    lookup_url_kwarg = "iteration_id"
    lookup_value_regex = PK_PATTERN

    def get_queryset(self) -> QuerySet[Iteration]:
        return Iteration.objects.select_related("team")

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        iteration = self.get_object()
        return with_etag(Response(self.get_serializer(iteration).data), iteration)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.IterationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        iteration = create_iteration(actor=person(request), **serializer.validated_data)
        data = self.get_serializer(iteration).data
        return with_etag(Response(data, status=status.HTTP_201_CREATED), iteration)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        iteration = self.get_object()
        expected = if_match_revision(request)
        serializer = s.IterationNotesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        notes = serializer.validated_data
        if expected is None and len(notes) < 2:
            # The note left out is resent as read here: pin that reading, so a change made
            # to it meanwhile is a 409 rather than silently undone.
            expected = iteration.revision
        iteration = update_iteration_notes(
            actor=person(request),
            iteration=iteration,
            review_notes=notes.get("review_notes", iteration.review_notes),
            retro_notes=notes.get("retro_notes", iteration.retro_notes),
            expected_revision=expected,
        )
        return with_etag(Response(self.get_serializer(iteration).data), iteration)
