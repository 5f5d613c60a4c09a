"""The versions API: registration, lifecycle, contract, card, README and artifact."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
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
from portal.api.parsers import CappedJSONParser, CheckedMultiPartParser
from portal.api.people import person
from portal.api.permissions import TokenScopePermission
from registry.api import serializers as s
from registry.api.permissions import CanEditModel
from registry.api.queries import api_versions
from registry.converters import SemverConverter
from registry.downloads import artifact_response, card_readme_response
from registry.models import ModelVersion, RegisteredModel
from registry.services import artifacts, card_readme, model_cards, versions

VERSION_EXAMPLE = OpenApiExample(
    "Register a version with a contract",
    value={
        "version": "1.2.0",
        "notes": "Retrained on Q3 data.",
        "input_schema": {
            "type": "object",
            "properties": {"tenure_months": {"type": "integer", "minimum": 0}},
            "required": ["tenure_months"],
        },
        "output_schema": {
            "type": "object",
            "properties": {"churn_probability": {"type": "number"}},
        },
        "example_request": {"tenure_months": 14},
        "example_response": {"churn_probability": 0.12},
    },
    request_only=True,
)


@extend_schema_view(
    list=extend_schema(summary="Versions of a model, newest semver first"),
    retrieve=extend_schema(summary="One version, with contract changes since the previous one"),
    create=extend_schema(
        summary="Register a version (card and missing contract copied forward)",
        request=s.ModelVersionCreateSerializer,
        examples=[VERSION_EXAMPLE],
    ),
    partial_update=extend_schema(summary="Edit notes", request=s.ModelVersionUpdateSerializer),
    destroy=extend_schema(summary="Delete a draft version"),
)
class ModelVersionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = s.ModelVersionSerializer
    permission_classes = [IsAuthenticated, TokenScopePermission, CanEditModel]
    # Schemas and examples arrive as JSON only: form-encoded JSONFields would bypass the
    # parser's size and nesting guards.
    parser_classes = [CappedJSONParser]
    lookup_field = "version"
    lookup_value_regex = SemverConverter.regex
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[ModelVersion]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no URL kwargs
            return ModelVersion.objects.none()
        return api_versions(self.kwargs["model_name"], listing=self.action == "list")

    def get_model(self) -> RegisteredModel:
        return get_object_or_404(RegisteredModel, name=self.kwargs["model_name"])

    def get_serializer_class(self) -> type[s.ModelVersionSerializer]:
        return s.ModelVersionRowSerializer if self.action == "list" else s.ModelVersionSerializer

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.get_model()  # an unknown model is a 404, not an empty list
        return super().list(request, *args, **kwargs)

    def _detail(self, version: ModelVersion, code: int = status.HTTP_200_OK) -> Response:
        previous = versions.previous_version(version)
        context = {
            **self.get_serializer_context(),
            "previous": previous,
            "changes": versions.contract_changes(previous, version),
        }
        data = s.ModelVersionDetailSerializer(version, context=context).data
        return with_etag(Response(data, status=code), version)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._detail(self.get_object())

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        model = self.get_model()
        self.check_object_permissions(request, model)
        serializer = s.ModelVersionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = versions.create_version(
            actor=person(request), model=model, **serializer.validated_data
        )
        return self._detail(self.get_queryset().get(pk=version.pk), status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        version = self.get_object()
        serializer = s.ModelVersionUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        versions.update_notes(
            actor=person(request),
            version=version,
            expected_revision=if_match_revision(request),
            **serializer.validated_data,
        )
        return self._detail(self.get_object())

    def perform_destroy(self, instance: ModelVersion) -> None:
        versions.delete_version(actor=person(self.request), version=instance)

    @extend_schema(
        summary="Move a version: draft ↔ candidate, or archive it (releases do the rest)",
        request=s.VersionStatusSerializer,
        responses=s.ModelVersionDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def status(self, request: Request, **kwargs: Any) -> Response:
        version = self.get_object()
        serializer = s.VersionStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        versions.set_version_status(
            actor=person(request), version=version, status=serializer.validated_data["status"]
        )
        return self._detail(self.get_object())

    @extend_schema(summary="The input/output contract", responses=s.ContractSerializer)
    @action(detail=True, methods=["get"])
    def contract(self, request: Request, **kwargs: Any) -> Response:
        version = self.get_object()
        return with_etag(Response(s.ContractSerializer(version).data), version)

    @extend_schema(
        summary="Replace the contract (schemas and examples are validated)",
        request=s.ContractSerializer,
        responses=s.ContractSerializer,
    )
    @contract.mapping.put
    def replace_contract(self, request: Request, **kwargs: Any) -> Response:
        version = self.get_object()
        serializer = s.ContractSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = versions.update_contract(
            actor=person(request),
            version=version,
            expected_revision=if_match_revision(request),
            **serializer.validated_data,
        )
        return with_etag(Response(s.ContractSerializer(version).data), version)

    @extend_schema(summary="The model card", responses=s.ModelCardSerializer)
    @action(detail=True, methods=["get"])
    def card(self, request: Request, **kwargs: Any) -> Response:
        card = self.get_object().card
        return with_etag(Response(s.ModelCardSerializer(card).data), card)

    @extend_schema(
        summary="Replace the whole model card (every field must be sent)",
        request=s.ModelCardSerializer,
        responses=s.ModelCardSerializer,
    )
    @card.mapping.put
    def replace_card(self, request: Request, **kwargs: Any) -> Response:
        return self._write_card(request, partial=False)

    @extend_schema(
        summary="Change some fields of the model card",
        request=s.ModelCardSerializer,
        responses=s.ModelCardSerializer,
    )
    @card.mapping.patch
    def update_card(self, request: Request, **kwargs: Any) -> Response:
        return self._write_card(request, partial=True)

    def _write_card(self, request: Request, *, partial: bool) -> Response:
        card = self.get_object().card
        serializer = s.ModelCardSerializer(card, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        sections, metadata = model_cards.split_card_values(serializer.validated_data)
        card = model_cards.update_card(
            actor=person(request),
            card=card,
            sections=sections,
            metadata=metadata,
            expected_revision=if_match_revision(request),
        )
        return with_etag(Response(s.ModelCardSerializer(card).data), card)

    @extend_schema(
        summary="The card as a Hugging Face style README.md",
        responses={(200, "text/markdown"): OpenApiTypes.STR},
    )
    @action(detail=True, methods=["get"], url_path="card/export")
    def card_export(self, request: Request, **kwargs: Any) -> HttpResponse:
        return card_readme_response(self.get_object())

    @extend_schema(
        summary="Replace the card from a README.md (file upload or text)",
        request={
            "multipart/form-data": s.CardImportSerializer,
            "application/json": s.CardImportSerializer,
        },
        responses=s.ModelCardSerializer,
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="card/import",
        parser_classes=[CappedJSONParser, CheckedMultiPartParser],
    )
    def card_import(self, request: Request, **kwargs: Any) -> Response:
        version = self.get_object()
        serializer = s.CardImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        text = serializer.validated_data.get("readme")
        upload = serializer.validated_data.get("file")
        if upload is not None:
            text = card_readme.read_readme_upload(upload)
        if text is None:
            raise s.serializers.ValidationError(
                {"readme": ["Send a README.md as `file` or `readme`."]}
            )
        card = card_readme.import_card_readme(
            actor=person(request),
            card=version.card,
            text=text,
            expected_revision=if_match_revision(request),
        )
        return with_etag(Response(s.ModelCardSerializer(card).data), card)

    @extend_schema(summary="The artifact and its validation", responses=s.ArtifactSerializer)
    # Route options (the parser) are shared by the methods mapped onto this action.
    @action(detail=True, methods=["get"], parser_classes=[CheckedMultiPartParser])
    def artifact(self, request: Request, **kwargs: Any) -> Response:
        version = self.get_object()
        if not hasattr(version, "artifact"):
            raise Http404("This version has no artifact.")
        return Response(s.ArtifactSerializer(version.artifact).data)

    @extend_schema(
        summary="Upload (or replace) the ONNX artifact; a worker validates it",
        request={"multipart/form-data": s.ArtifactUploadSerializer},
        responses={
            202: s.ArtifactSerializer,
            413: OpenApiResponse(description="Over the upload cap"),
        },
    )
    @artifact.mapping.post
    def upload_artifact(self, request: Request, **kwargs: Any) -> Response:
        version = self.get_object()
        serializer = s.ArtifactUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        artifact = artifacts.store_artifact(
            actor=person(request), version=version, upload=serializer.validated_data["file"]
        )
        artifact.refresh_from_db()
        return Response(s.ArtifactSerializer(artifact).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Download the ONNX file (checksum in X-Checksum-SHA256)",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"], url_path="artifact/download")
    def artifact_download(self, request: Request, **kwargs: Any) -> FileResponse:
        version = self.get_object()
        if not hasattr(version, "artifact"):
            raise Http404("This version has no artifact.")
        return artifact_response(version.artifact)
