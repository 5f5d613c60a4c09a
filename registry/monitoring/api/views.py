"""The drift-monitoring API: a version's monitoring settings (read, create or replace), its
drift reports (list, run one now, read one whole) and cancelling a report.

Everyone signed in reads; writes are for the model team's Data scientists and Engineers,
checked before the body is read (so an outsider gets 403, not a 400 about a body they may
not send) and again by the services, which stay the authority.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api.parsers import CappedJSONParser
from portal.api.people import person
from registry.evaluation.models import Dataset
from registry.models import ModelVersion
from registry.monitoring.api.serializers import (
    DriftReportRowSerializer,
    DriftReportSerializer,
    MonitoringConfigSerializer,
)
from registry.monitoring.models import DriftReport, MonitoringConfig, Trigger, WindowSource
from registry.monitoring.permissions import can_monitor, require_monitor
from registry.monitoring.services.configs import save_config
from registry.monitoring.services.reports import cancel_report, start_report

CONFIG_EXAMPLE = OpenApiExample(
    "Logged predictions against a reference, daily; age is critical",
    value={
        "reference": {"name": "churn-reference", "version": "2026-10"},
        "columns": [
            {"name": "age", "kind": "numeric", "test": "psi", "threshold": 0.2, "critical": True},
            {"name": "region", "kind": "categorical"},
        ],
        "prediction_column": "prediction",
        "source": "logs",
        "window_hours": 24,
        "schedule": "daily",
        "drift_share": 0.5,
    },
    request_only=True,
)


class NotConfigured(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "not_configured"


def version_or_404(name: str, version: str) -> ModelVersion:
    return get_object_or_404(
        ModelVersion.objects.select_related("model", "model__team"),
        model__name=name,
        version=version,
    )


def config_of(version: ModelVersion) -> MonitoringConfig | None:
    return (
        MonitoringConfig.objects.select_related("version__model", "reference", "current")
        .select_related("created_by")
        .filter(version=version)
        .first()
    )


def not_set_up(version: ModelVersion) -> str:
    return f"Drift monitoring of {version} is not set up: PUT its settings to …/monitoring/ first."


def report_queryset() -> QuerySet[DriftReport]:
    return DriftReport.objects.select_related("version__model", "started_by").order_by(
        "-window_end", "-pk"
    )


def _dataset(named: Mapping[str, str], field: str) -> Dataset:
    found = Dataset.objects.filter(name=named["name"], version=named["version"]).first()
    if found is None:
        message = f"No dataset {named['name']} of version {named['version']}."
        raise serializers.ValidationError({field: [message]})
    return found


def _settings(values: dict[str, Any]) -> dict[str, Any]:
    """The body's settings for ``save_config``; ``current`` only when a dataset is named."""
    current = values.pop("current", None)
    if current is not None:
        values["current"] = _dataset(current, "current")
    elif values.get("source") == WindowSource.DATASET:
        raise serializers.ValidationError(
            {"current": ["Choose the dataset to compare with the reference."]}
        )
    return values


# Settings -------------------------------------------------------------------------------


class MonitoringConfigView(APIView):
    parser_classes = [CappedJSONParser]
    serializer_class = MonitoringConfigSerializer

    def _shown(self, request: Request, config: MonitoringConfig, code: int) -> Response:
        context = {"request": request, "shows_webhook": can_monitor(request.user, config.version)}
        return Response(MonitoringConfigSerializer(config, context=context).data, status=code)

    @extend_schema(
        summary="The version's drift-monitoring settings",
        responses={
            200: MonitoringConfigSerializer,
            404: OpenApiResponse(description="No such version, or its monitoring is not set up"),
        },
    )
    def get(self, request: Request, model_name: str, version: str) -> Response:
        found = version_or_404(model_name, version)
        config = config_of(found)
        if config is None:
            raise exceptions.NotFound(not_set_up(found))
        return self._shown(request, config, status.HTTP_200_OK)

    @extend_schema(
        summary="Set up or replace the version's drift monitoring",
        request=MonitoringConfigSerializer,
        responses={
            200: MonitoringConfigSerializer,
            201: MonitoringConfigSerializer,
            400: OpenApiResponse(description="A setting that cannot be used, named"),
        },
        examples=[CONFIG_EXAMPLE],
    )
    def put(self, request: Request, model_name: str, version: str) -> Response:
        found = version_or_404(model_name, version)
        require_monitor(request.user, found)
        body = MonitoringConfigSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data)
        reference = _dataset(values.pop("reference"), "reference")
        columns = values.pop("columns", None)
        existed = MonitoringConfig.objects.filter(version=found).exists()
        save_config(
            actor=person(request),
            version=found,
            reference=reference,
            columns=None if columns is None else [dict(column) for column in columns],
            **_settings(values),
        )
        saved = config_of(found)
        assert saved is not None
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return self._shown(request, saved, code)


# Reports --------------------------------------------------------------------------------


class VersionDriftReportsView(generics.ListAPIView[DriftReport]):
    serializer_class = DriftReportRowSerializer
    parser_classes = [CappedJSONParser]

    def get_queryset(self) -> QuerySet[DriftReport]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no URL kwargs
            return DriftReport.objects.none()
        found = version_or_404(self.kwargs["model_name"], self.kwargs["version"])
        return report_queryset().filter(version=found)

    @extend_schema(summary="The version's drift reports, newest window first (no columns)")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Run a drift report of the window ending now; a worker makes it",
        request=None,
        responses={
            202: DriftReportSerializer,
            200: OpenApiResponse(
                DriftReportSerializer, description="This minute's report, already started"
            ),
            409: OpenApiResponse(description="Drift monitoring of the version is not set up"),
        },
    )
    def post(self, request: Request, model_name: str, version: str) -> Response:
        found = version_or_404(model_name, version)
        require_monitor(request.user, found)
        config = config_of(found)
        if config is None:
            raise NotConfigured(not_set_up(found))
        report, created = start_report(actor=person(request), config=config, trigger=Trigger.API)
        shown = report_queryset().get(pk=report.pk)
        data = DriftReportSerializer(shown, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)


class DriftReportMixin:
    kwargs: dict[str, Any]

    def get_queryset(self) -> QuerySet[DriftReport]:
        if getattr(self, "swagger_fake_view", False):
            return DriftReport.objects.none()
        found = version_or_404(self.kwargs["model_name"], self.kwargs["version"])
        return report_queryset().filter(version=found)


class DriftReportView(DriftReportMixin, generics.RetrieveAPIView[DriftReport]):
    serializer_class = DriftReportSerializer
    lookup_url_kwarg = "report_id"

    @extend_schema(summary="One drift report with every column, its histograms and its alert")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class DriftReportCancelView(DriftReportMixin, generics.GenericAPIView[DriftReport]):
    serializer_class = DriftReportSerializer
    lookup_url_kwarg = "report_id"

    @extend_schema(
        summary="Cancel a queued or running report (a worker stops at its next chunk)",
        request=None,
        responses={
            200: DriftReportSerializer,
            400: OpenApiResponse(description="The report has already ended"),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        report = self.get_object()
        cancel_report(actor=person(request), report=report)
        shown = self.get_queryset().get(pk=report.pk)
        return Response(self.get_serializer(shown).data)
