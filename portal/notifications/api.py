"""The notifications API: list mine, mark read.

Routes are registered by ``portal/backlog/api/urls.py`` (``/api/v1/notifications/``).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api.parsers import CappedJSONParser
from portal.api.people import person
from portal.api.permissions import TokenScopePermission
from portal.api.serializers import RowFastSerializerMixin, StrictSerializer
from portal.notifications import services
from portal.notifications.models import Notification

MAX_ID = 2**63 - 1
MAX_MARKED = 1000


class NotificationSerializer(RowFastSerializerMixin, serializers.ModelSerializer):
    actor = serializers.SlugRelatedField[Any](
        slug_field="username", read_only=True, allow_null=True, help_text="None: Handoff did it."
    )

    class Meta:
        model = Notification
        fields = ["id", "kind", "message", "url", "actor", "created_at", "read_at"]
        read_only_fields = fields


class MarkReadSerializer(StrictSerializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        max_length=MAX_MARKED,
        required=False,
        help_text="Notifications to mark read; leave out to mark every unread one.",
    )


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many were unread and now are read.")


class NotificationFilterSet(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(method="by_unread", label="Only unread (or only read)")

    class Meta:
        model = Notification
        fields = ["unread"]

    def by_unread(self, queryset: QuerySet[Any], name: str, value: bool | None) -> QuerySet[Any]:
        return queryset if value is None else queryset.filter(read_at__isnull=value)


@extend_schema_view(list=extend_schema(summary="My notifications, newest first"))
class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[Notification]):
    serializer_class = NotificationSerializer
    # Marking read changes state, so a read-only token may only list.
    permission_classes = [IsAuthenticated, TokenScopePermission]
    parser_classes = [CappedJSONParser]
    filterset_class = NotificationFilterSet

    def get_queryset(self) -> QuerySet[Notification]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no person
            return Notification.objects.none()
        return Notification.objects.filter(recipient=person(self.request)).select_related("actor")

    @extend_schema(
        summary="Mark some ({ids: [...]}) or all ({}) of my notifications read",
        request=MarkReadSerializer,
        responses=MarkedSerializer,
    )
    @action(detail=False, methods=["post"], url_path="mark-read")
    def mark_read(self, request: Request) -> Response:
        serializer = MarkReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        marked = services.mark_read(
            person=person(request), ids=serializer.validated_data.get("ids")
        )
        return Response(MarkedSerializer({"marked": marked}).data)
