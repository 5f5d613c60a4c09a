"""The backlog items API: list and filter, file, edit, move; an item's comments and links.

Items are never deleted through the API: an item that will not be done is moved to
"won't do", which keeps its history, comments and links.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api.conditional import if_match_revision, with_etag
from portal.api.parsers import CappedJSONParser
from portal.api.people import person
from portal.api.permissions import TokenScopePermission
from portal.backlog.api import serializers as s
from portal.backlog.api.permissions import CanChangeBacklog
from portal.backlog.filtersets import BacklogItemFilterSet
from portal.backlog.models import BacklogItem, Comment, ItemLink
from portal.backlog.services import comments, items, links

# Ids in paths: up to 18 digits, so a longer one is a 404 before it reaches a (64-bit) column.
PK_PATTERN = r"[0-9]{1,18}"
ITEM_ID = OpenApiParameter("item_id", OpenApiTypes.INT, OpenApiParameter.PATH)
LINK_ID = OpenApiParameter("link_id", OpenApiTypes.INT, OpenApiParameter.PATH)

ITEM_EXAMPLE = OpenApiExample(
    "File a bug about a model version",
    value={
        "team": "risk-modelling",
        "title": "Scores are NaN for new customers",
        "kind": "bug",
        "priority": "P1",
        "assignees": ["alice"],
        "labels": ["scoring"],
        "links": [{"type": "version", "id": 12}],
    },
    request_only=True,
)


def item_api_queryset() -> QuerySet[BacklogItem]:
    """Items with everything their representation reads: one query per relation, not per row."""
    return BacklogItem.objects.select_related("team", "reporter", "closed_by").prefetch_related(
        Prefetch("assignees", queryset=get_user_model().objects.order_by("username")),
        "labels",
        Prefetch("links", queryset=ItemLink.objects.select_related("target_type")),
    )


@extend_schema_view(
    list=extend_schema(summary="List and filter backlog items"),
    retrieve=extend_schema(summary="One backlog item", parameters=[ITEM_ID]),
    create=extend_schema(
        summary="File an item",
        request=s.BacklogItemCreateSerializer,
        responses={201: s.BacklogItemSerializer},
        examples=[ITEM_EXAMPLE],
    ),
    partial_update=extend_schema(
        summary="Change an item's fields, assignees or labels (status: use move)",
        request=s.BacklogItemUpdateSerializer,
        parameters=[ITEM_ID],
    ),
)
class BacklogItemViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[BacklogItem]
):
    serializer_class = s.BacklogItemSerializer
    permission_classes = [IsAuthenticated, TokenScopePermission, CanChangeBacklog]
    # Nested lists (assignees, labels, links) arrive as JSON only.
    parser_classes = [CappedJSONParser]
    filterset_class = BacklogItemFilterSet
    lookup_url_kwarg = "item_id"
    lookup_value_regex = PK_PATTERN

    def get_queryset(self) -> QuerySet[BacklogItem]:
        return item_api_queryset()

    def _detail(self, item: BacklogItem, code: int = status.HTTP_200_OK) -> Response:
        fresh = item_api_queryset().get(pk=item.pk)
        return with_etag(Response(self.get_serializer(fresh).data, status=code), fresh)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = self.get_object()
        return with_etag(Response(self.get_serializer(item).data), item)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.BacklogItemCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = items.create_item(actor=person(request), **serializer.validated_data)
        return self._detail(item, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = self.get_object()
        expected = if_match_revision(request)
        serializer = s.BacklogItemUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        items.update_item(
            actor=person(request),
            item=item,
            expected_revision=expected,
            assignees=fields.pop("assignees", None),
            labels=fields.pop("labels", None),
            **fields,
        )
        return self._detail(item)

    @extend_schema(
        summary="Move an item along the workflow and/or place it above another item",
        request=s.MoveSerializer,
        responses=s.BacklogItemSerializer,
        parameters=[ITEM_ID],
    )
    @action(detail=True, methods=["post"])
    def move(self, request: Request, **kwargs: Any) -> Response:
        item = self.get_object()
        expected = if_match_revision(request)
        serializer = s.MoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        items.move_item(
            actor=person(request),
            item=item,
            status=serializer.validated_data["status"],
            before_item=serializer.validated_data.get("before"),
            expected_revision=expected,
        )
        return self._detail(item)


def _item(kwargs: dict[str, Any]) -> BacklogItem:
    """The item a nested route names; 404 when there is none."""
    return get_object_or_404(BacklogItem.objects.select_related("team"), pk=kwargs["item_id"])


@extend_schema_view(
    list=extend_schema(summary="An item's comments, oldest first", parameters=[ITEM_ID]),
    create=extend_schema(
        summary="Comment on an item (@username notifies that person once)",
        request=s.CommentWriteSerializer,
        responses={201: s.CommentSerializer},
        parameters=[ITEM_ID],
    ),
)
class ItemCommentViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[Comment]):
    serializer_class = s.CommentSerializer
    permission_classes = [IsAuthenticated, TokenScopePermission, CanChangeBacklog]
    parser_classes = [CappedJSONParser]

    def get_queryset(self) -> QuerySet[Comment]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no URL kwargs
            return Comment.objects.none()
        return (
            Comment.objects.filter(item_id=self.kwargs["item_id"])
            .select_related("author")
            .prefetch_related(
                Prefetch("mentions", queryset=get_user_model().objects.order_by("username"))
            )
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _item(self.kwargs)  # an unknown item is a 404, not an empty list
        return super().list(request, *args, **kwargs)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = _item(self.kwargs)
        serializer = s.CommentWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment = comments.add_comment(
            actor=person(request), item=item, body=serializer.validated_data["body"]
        )
        data = self.get_serializer(self.get_queryset().get(pk=comment.pk)).data
        return Response(data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    create=extend_schema(
        summary="Link an item to what it is about",
        request=s.ItemLinkWriteSerializer,
        responses={201: s.ItemLinkSerializer},
        parameters=[ITEM_ID],
    ),
    destroy=extend_schema(
        summary="Unlink",
        responses={204: OpenApiResponse(description="Unlinked")},
        parameters=[ITEM_ID, LINK_ID],
    ),
)
class ItemLinkViewSet(viewsets.GenericViewSet[ItemLink]):
    serializer_class = s.ItemLinkSerializer
    permission_classes = [IsAuthenticated, TokenScopePermission, CanChangeBacklog]
    parser_classes = [CappedJSONParser]
    lookup_url_kwarg = "link_id"
    lookup_value_regex = PK_PATTERN

    def get_queryset(self) -> QuerySet[ItemLink]:
        if getattr(self, "swagger_fake_view", False):
            return ItemLink.objects.none()
        return ItemLink.objects.filter(item_id=self.kwargs["item_id"]).select_related(
            "item__team", "target_type"
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = _item(self.kwargs)
        self.check_object_permissions(request, item)
        serializer = s.ItemLinkWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        link = links.add_link(
            actor=person(request), item=item, target=serializer.validated_data["target"]
        )
        return Response(self.get_serializer(link).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        link = self.get_object()
        links.remove_link(actor=person(request), link=link)
        return Response(status=status.HTTP_204_NO_CONTENT)
