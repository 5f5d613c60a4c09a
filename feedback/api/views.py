"""The feedback API: predictions, feedback and outcomes in, lists out, end users erased.

Ingest endpoints take one record or a list of up to 10,000 and answer 200 with what was
accepted, what was a duplicate and each rejected record's index and reason; a batch that
names a model the caller may not write to is refused whole (403), storing nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback.api import serializers as s
from feedback.api.authentication import ApiKeyAuthentication
from feedback.api.cors import KeyOriginCors
from feedback.api.permissions import KeyOrPerson, caller_of
from feedback.api.throttles import ApiKeyRateThrottle, PersonRateThrottle
from feedback.models import Feedback, FeedbackSource, PredictionLog
from feedback.records import Reject, as_list, text_already_checked
from feedback.services.erasure import erase_end_user
from feedback.services.feedback import give_feedback
from feedback.services.outcomes import report_outcomes
from feedback.services.predictions import log_predictions
from portal.api.authentication import PersonalTokenAuthentication
from portal.api.parsers import RecordsJSONParser
from portal.api.permissions import TokenScopePermission
from registry.models import RegisteredModel

AUTHENTICATION: list[type[BaseAuthentication]] = [
    ApiKeyAuthentication,
    PersonalTokenAuthentication,
    SessionAuthentication,  # the portal's own pages
]


class FeedbackApiView(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [KeyOrPerson, TokenScopePermission]
    throttle_classes = [ApiKeyRateThrottle, PersonRateThrottle]
    parser_classes = [RecordsJSONParser]


def _records(request: Request) -> list[Any]:
    try:
        return as_list(request.data)
    except Reject as reason:
        raise exceptions.ValidationError({"detail": [f"The body: {reason}."]}) from None


def _answer(request: Request, run: Any) -> Response:
    try:
        with text_already_checked(getattr(request, "storable_body", False)):
            return Response(run().as_json())
    except PermissionDenied as refusal:
        raise exceptions.PermissionDenied(str(refusal)) from None


class CursorByTime(CursorPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1_000


class PredictionsByTime(CursorByTime):
    ordering = ("-predicted_at", "-id")


class FeedbackByTime(CursorByTime):
    ordering = ("-created_at", "-id")


def _readable(request: Request) -> QuerySet[RegisteredModel]:
    try:
        return caller_of(request).readable(RegisteredModel.objects.all())
    except PermissionDenied as refusal:
        raise exceptions.PermissionDenied(str(refusal)) from None


@extend_schema(tags=["feedback"])
class PredictionsView(FeedbackApiView, ListAPIView[PredictionLog]):
    pagination_class = PredictionsByTime
    serializer_class = s.PredictionLogSerializer

    def get_queryset(self) -> QuerySet[PredictionLog]:
        models = _readable(self.request)
        rows = PredictionLog.objects.filter(model__in=models).select_related("model", "version")
        if name := self.request.query_params.get("model"):
            rows = rows.filter(model__name=name)
        if version := self.request.query_params.get("version"):
            rows = rows.filter(version__version=version)
        return rows

    @extend_schema(
        summary="Predictions, newest first (cursor pagination)",
        parameters=[
            OpenApiParameter("model", str, description="A model's name."),
            OpenApiParameter("version", str, description="One of its versions."),
        ],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Log predictions: one record or up to 10,000, idempotent per prediction_id",
        request=s.PredictionRecordSerializer(many=True),
        responses=s.PredictionResultSerializer,
    )
    def post(self, request: Request) -> Response:
        records = _records(request)
        caller = caller_of(request)
        return _answer(
            request, lambda: log_predictions(caller=caller, records=records, now=timezone.now())
        )


@extend_schema(tags=["feedback"])
class FeedbackView(KeyOriginCors, FeedbackApiView, ListAPIView[Feedback]):  # type: ignore[misc]
    pagination_class = FeedbackByTime
    serializer_class = s.FeedbackSerializer

    def get_queryset(self) -> QuerySet[Feedback]:
        models = _readable(self.request)
        rows = Feedback.objects.filter(model__in=models).select_related("model")
        if name := self.request.query_params.get("model"):
            rows = rows.filter(model__name=name)
        return rows

    @extend_schema(
        summary="Feedback, newest first (cursor pagination)",
        parameters=[OpenApiParameter("model", str, description="A model's name.")],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Give feedback on predictions: one or a batch; it may come before the prediction",
        request=s.FeedbackRecordSerializer(many=True),
        responses=s.BatchResultSerializer,
    )
    def post(self, request: Request) -> Response:
        records = _records(request)
        caller = caller_of(request)
        source = FeedbackSource.WIDGET if request.headers.get("Origin") else FeedbackSource.API
        if caller.key is None:
            source = FeedbackSource.PORTAL
        return _answer(
            request,
            lambda: give_feedback(
                caller=caller, records=records, now=timezone.now(), source=source
            ),
        )


@extend_schema(tags=["feedback"])
class OutcomesView(FeedbackApiView):
    @extend_schema(
        summary="Report business outcomes of predictions (idempotent per prediction and name)",
        request=s.OutcomeRecordSerializer(many=True),
        responses=s.BatchResultSerializer,
    )
    def post(self, request: Request) -> Response:
        records = _records(request)
        caller = caller_of(request)
        return _answer(
            request, lambda: report_outcomes(caller=caller, records=records, now=timezone.now())
        )


@extend_schema(tags=["feedback"])
class EndUserView(FeedbackApiView):
    @extend_schema(
        summary="Erase an end user: their free text, id and request metadata, across models",
        parameters=[OpenApiParameter("end_user", str, OpenApiParameter.PATH)],
        responses=s.ErasureSerializer,
    )
    def delete(self, request: Request, end_user: str) -> Response:
        try:
            counts = erase_end_user(caller=caller_of(request), end_user=end_user)
        except PermissionDenied as refusal:
            raise exceptions.PermissionDenied(str(refusal)) from None
        return Response(counts)
