"""The datasets API: list and upload, one dataset with its profile, delete, and a check of
a dataset against a model version's input contract.

Everyone signed in (or a read-only token) reads; uploads and deletions are for the owning
team's Data scientists and Engineers, refused before the body is read and again by the
services, which stay the authority.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api.parsers import CheckedMultiPartParser
from portal.api.people import person
from portal.api.permissions import TokenScopePermission
from registry.evaluation.api.dataset_serializers import (
    ContractReportSerializer,
    DatasetCreateSerializer,
    DatasetDetailSerializer,
    DatasetSerializer,
    ValidationQuerySerializer,
)
from registry.evaluation.dataset_filters import DatasetFilterSet, dataset_list_queryset
from registry.evaluation.models import Dataset
from registry.evaluation.permissions import can_upload_dataset
from registry.evaluation.services import datasets
from registry.models import ModelVersion
from registry.permissions import can_create_model

DATASET_PATH = [
    OpenApiParameter("name", OpenApiTypes.STR, OpenApiParameter.PATH, description="Dataset name."),
    OpenApiParameter(
        "version", OpenApiTypes.STR, OpenApiParameter.PATH, description="Dataset version."
    ),
]


class CanChangeDatasets(BasePermission):
    """Reads for everyone; an upload needs the role, a deletion membership of the team."""

    message = "Only a team's Data scientists and Engineers may add or remove its datasets."

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS or request.method == "DELETE":
            return True  # a deletion is checked against the dataset's team
        return can_create_model(request.user)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return isinstance(obj, Dataset) and can_upload_dataset(request.user, obj.team)


def dataset_or_404(name: str, version: str) -> Dataset:
    return get_object_or_404(
        Dataset.objects.select_related("team", "created_by"), name=name, version=version
    )


class DatasetListView(generics.ListAPIView[Dataset]):
    serializer_class = DatasetSerializer
    filterset_class = DatasetFilterSet
    parser_classes = [CheckedMultiPartParser]
    permission_classes = [IsAuthenticated, TokenScopePermission, CanChangeDatasets]

    def get_queryset(self) -> QuerySet[Dataset]:
        return dataset_list_queryset()

    @extend_schema(summary="Datasets, by name then newest first; filter by team, kind or name")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Upload a dataset (CSV or Parquet); a worker profiles it",
        request={"multipart/form-data": DatasetCreateSerializer},
        responses={
            201: DatasetSerializer,
            413: OpenApiResponse(description="Over the upload cap (the limit is named)"),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = DatasetCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        created = datasets.create_dataset(
            actor=person(request), upload=fields.pop("file"), **fields
        )
        shown = dataset_list_queryset().get(pk=created.pk)
        data = DatasetSerializer(shown, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)


class DatasetView(generics.RetrieveDestroyAPIView[Dataset]):
    serializer_class = DatasetDetailSerializer
    permission_classes = [IsAuthenticated, TokenScopePermission, CanChangeDatasets]

    def get_object(self) -> Dataset:
        found = dataset_or_404(self.kwargs["dataset_name"], self.kwargs["dataset_version"])
        self.check_object_permissions(self.request, found)
        return found

    @extend_schema(summary="One dataset with its profile", parameters=DATASET_PATH)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Delete a dataset no evaluation was measured on",
        parameters=DATASET_PATH,
        responses={204: None, 400: OpenApiResponse(description="Evaluations use it (named)")},
    )
    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().delete(request, *args, **kwargs)

    def perform_destroy(self, instance: Dataset) -> None:
        datasets.delete_dataset(actor=person(self.request), dataset=instance)


class DatasetValidationView(APIView):
    @extend_schema(
        summary="Check every row against a model version's input contract",
        parameters=[
            *DATASET_PATH,
            OpenApiParameter("model", OpenApiTypes.STR, required=True, description="Model name."),
            OpenApiParameter(
                "version",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                required=True,
                description="The model's version, e.g. 1.0.0.",
            ),
        ],
        responses=ContractReportSerializer,
    )
    def get(self, request: Request, dataset_name: str, dataset_version: str) -> Response:
        dataset = dataset_or_404(dataset_name, dataset_version)
        # "format" chooses the renderer (DRF's URL override), it is no field of this query.
        params = {k: v for k, v in request.query_params.items() if k != "format"}
        query = ValidationQuerySerializer(data=params)
        query.is_valid(raise_exception=True)
        model_version = _model_version(
            query.validated_data["model"], query.validated_data["version"]
        )
        report = datasets.validate_dataset(dataset=dataset, version=model_version)
        data = {
            "dataset": dataset.name,
            "dataset_version": dataset.version,
            "model": model_version.model.name,
            "version": model_version.version,
            **report.as_json(),
        }
        return Response(ContractReportSerializer(data).data)


def _model_version(model: str, version: str) -> ModelVersion:
    found = (
        ModelVersion.objects.select_related("model")
        .filter(model__name=model, version=version)
        .first()
    )
    if found is None:
        raise serializers.ValidationError(
            {"version": [f"No version {version} of a model named {model}."]}
        )
    return found
