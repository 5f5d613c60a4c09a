"""The models API: register, list and search, edit, delete, compare versions."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api.conditional import if_match_revision, with_etag
from portal.api.people import person
from portal.api.permissions import TokenScopePermission
from registry.api import serializers as s
from registry.api.permissions import CanEditModel
from registry.api.queries import model_api_queryset, model_api_rows, tag_names
from registry.filtersets import RegisteredModelFilterSet
from registry.models import ModelVersion, RegisteredModel
from registry.services import models
from registry.services.comparison import compare_versions

MODEL_EXAMPLE = OpenApiExample(
    "Register a model",
    value={
        "name": "churn-risk",
        "title": "Churn risk",
        "summary": "Probability that a subscriber cancels within 30 days.",
        "team": "risk-modelling",
        "task_type": "binary_classification",
        "tags": ["tabular", "subscriptions"],
    },
    request_only=True,
)


@extend_schema_view(
    list=extend_schema(summary="List and search models"),
    retrieve=extend_schema(summary="One model"),
    create=extend_schema(summary="Register a model", examples=[MODEL_EXAMPLE]),
    partial_update=extend_schema(
        summary="Change title, summary, task type or tags",
        request=s.RegisteredModelUpdateSerializer,
    ),
    destroy=extend_schema(summary="Delete a model that was never released"),
)
class RegisteredModelViewSet(viewsets.ModelViewSet):
    serializer_class = s.RegisteredModelSerializer
    permission_classes = [IsAuthenticated, TokenScopePermission, CanEditModel]
    filterset_class = RegisteredModelFilterSet
    lookup_field = "name"
    # The same path parameter as the nested versions routes: /models/{model_name}/versions/.
    lookup_url_kwarg = "model_name"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[RegisteredModel]:
        return model_api_queryset()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        values = model_api_rows(self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(values)
        rows = list(values) if page is None else page
        serializer = s.RegisteredModelSerializer(context=self.get_serializer_context())
        data = serializer.rows(rows, tag_names(row["pk"] for row in rows))
        return Response(data) if page is None else self.get_paginated_response(data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        model = models.create_model(actor=person(request), **serializer.validated_data)
        return Response(self.get_serializer(model).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        model = self.get_object()
        serializer = s.RegisteredModelUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        models.update_model(
            actor=person(request),
            model=model,
            tags=fields.pop("tags", None),
            expected_revision=if_match_revision(request),
            **fields,
        )
        return self.retrieve(request)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        model = self.get_object()
        return with_etag(Response(self.get_serializer(model).data), model)

    def perform_destroy(self, instance: RegisteredModel) -> None:
        models.delete_model(actor=person(self.request), model=instance)

    @extend_schema(
        summary="Compare two versions: contract, card and metadata",
        parameters=[
            OpenApiParameter("a", str, required=True, description="The older version."),
            OpenApiParameter("b", str, required=True, description="The newer version."),
        ],
        responses=s.CompareSerializer,
    )
    @action(detail=True, methods=["get"])
    def compare(self, request: Request, model_name: str) -> Response:
        model = self.get_object()
        found = {
            v.version: v
            for v in ModelVersion.objects.filter(
                model=model,
                version__in=[request.query_params.get("a"), request.query_params.get("b")],
            ).select_related("card", "artifact", "model")
        }
        a = found.get(request.query_params.get("a", ""))
        b = found.get(request.query_params.get("b", ""))
        if a is None or b is None:
            raise Http404("Both a and b must name versions of this model.")
        return Response(compare_versions(a, b))
