"""Webhooks: release webhooks and their deliveries."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api.parsers import CappedJSONParser
from portal.api.people import person
from portal.models import Team
from portal.webhooks.models import WebhookDelivery
from registry.releases.api import serializers as s
from registry.releases.api.views.common import DELIVERY_ID, PK_PATTERN, WEBHOOK_ID, valid_body
from registry.releases.models import Environment, ReleaseWebhook
from registry.releases.services import webhooks


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
        values = valid_body(s.ReleaseWebhookCreateSerializer, request)
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
