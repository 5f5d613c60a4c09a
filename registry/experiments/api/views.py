"""The experiments API: experiments, runs, batch logging, metric histories, search, compare.

Runs are never deleted or edited through the API: a run is created, logged to in batches
and ended. Every read path is in ``registry.experiments.queries``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
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
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api.parsers import CappedJSONParser
from portal.api.people import person
from portal.api.permissions import TokenScopePermission
from registry.experiments.api import batches
from registry.experiments.api import serializers as s
from registry.experiments.api.permissions import CanLogRuns
from registry.experiments.models import Experiment, Run
from registry.experiments.queries import (
    MAX_POINTS,
    MIN_POINTS,
    compare_data,
    experiment_api_queryset,
    metric_history,
    run_detail_queryset,
    run_list_queryset,
    search_runs,
)
from registry.experiments.search import SearchError
from registry.experiments.services import runs
from registry.experiments.services.experiments import create_experiment, update_experiment
from registry.experiments.services.keys import KEY_RULE, key_problem

# Ids in paths: up to 18 digits, so a longer one is a 404 before it reaches a (64-bit) column.
PK_PATTERN = r"[0-9]{1,18}"
# A metric key in a path: the characters a key may hold (services/keys.py), "/" included.
KEY_PATTERN = r"[-A-Za-z0-9_./ :]{1,250}"
EXPERIMENT_ID = OpenApiParameter("experiment_id", OpenApiTypes.INT, OpenApiParameter.PATH)
RUN_ID = OpenApiParameter("run_id", OpenApiTypes.INT, OpenApiParameter.PATH)
METRIC_KEY = OpenApiParameter(
    "key", str, OpenApiParameter.PATH, pattern=f"^{KEY_PATTERN}$", description=KEY_RULE
)
HISTORY_POINTS = 2_000
COMPARE_POINTS = 500


def _max_points(default: int) -> OpenApiParameter:
    return OpenApiParameter(
        "max_points",
        int,
        description=f"Thin longer series to this many points ({MIN_POINTS}-{MAX_POINTS:,}).",
        default=default,
    )


def _int_param(request: Request, name: str, default: int) -> int:
    text = request.query_params.get(name, "")
    if not text:
        return default
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise ValidationError({name: ["A whole number."]})
    return int(text)


RUN_EXAMPLE = OpenApiExample(
    "Start a run",
    value={
        "experiment": 1,
        "name": "lr=0.01",
        "git_commit": "4f9c2e1",
        "datasets": [{"name": "train.parquet", "sha256": "ab" * 32, "role": "training"}],
        "python_version": "3.11.9",
        "packages": "numpy==2.1.0\nscikit-learn==1.5.2\n",
    },
    request_only=True,
)
BATCH_EXAMPLE = OpenApiExample(
    "Log a batch",
    value={
        "metrics": [{"key": "loss", "value": 0.41, "step": 10, "timestamp": 1718000000000}],
        "params": [{"key": "lr", "value": "0.01"}],
        "tags": [{"key": "stage", "value": "sweep"}],
    },
    request_only=True,
)


@extend_schema_view(
    list=extend_schema(summary="List experiments"),
    retrieve=extend_schema(summary="One experiment", parameters=[EXPERIMENT_ID]),
    create=extend_schema(
        summary="Create an experiment",
        request=s.ExperimentCreateSerializer,
        responses={201: s.ExperimentSerializer},
    ),
    partial_update=extend_schema(
        summary="Change an experiment's description, model or metric directions",
        request=s.ExperimentUpdateSerializer,
        responses=s.ExperimentSerializer,
        parameters=[EXPERIMENT_ID],
    ),
)
class ExperimentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Experiment]
):
    serializer_class = s.ExperimentSerializer
    permission_classes = [IsAuthenticated, TokenScopePermission, CanLogRuns]
    parser_classes = [CappedJSONParser]
    lookup_url_kwarg = "experiment_id"
    lookup_value_regex = PK_PATTERN

    def get_queryset(self) -> QuerySet[Experiment]:
        return experiment_api_queryset()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.ExperimentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        experiment = create_experiment(actor=person(request), **serializer.validated_data)
        fresh = experiment_api_queryset().get(pk=experiment.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        experiment = self.get_object()
        serializer = s.ExperimentUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        update_experiment(actor=person(request), experiment=experiment, **serializer.validated_data)
        fresh = experiment_api_queryset().get(pk=experiment.pk)
        return Response(self.get_serializer(fresh).data)

    @extend_schema(
        summary="Compare runs: params (and which differ), summaries, a series per run",
        parameters=[
            EXPERIMENT_ID,
            OpenApiParameter(
                "runs", str, required=True, description="2-100 run ids, comma-separated."
            ),
            OpenApiParameter("metrics", str, description="Metric keys, comma-separated."),
            _max_points(COMPARE_POINTS),
        ],
        responses=s.ExperimentCompareSerializer,
    )
    @action(detail=True, methods=["get"])
    def compare(self, request: Request, **kwargs: Any) -> Response:
        experiment = self.get_object()
        run_ids = _ids(request.query_params.get("runs", ""))
        metrics = request.query_params.get("metrics", "")
        keys = [key.strip() for key in metrics.split(",")] if metrics.strip() else []
        max_points = _int_param(request, "max_points", COMPARE_POINTS)
        data = compare_data(experiment, run_ids, keys, max_points)
        return Response(s.compare_json(data))


def _ids(text: str) -> list[int]:
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not all(part.isascii() and part.isdigit() and len(part) <= 18 for part in parts):
        raise ValidationError({"runs": ["Run ids, comma-separated: runs=12,15,17."]})
    return [int(part) for part in parts]


@extend_schema_view(
    list=extend_schema(
        summary="List and search runs",
        parameters=[
            OpenApiParameter("experiment", int, description="Only this experiment's runs."),
            OpenApiParameter(
                "filter",
                str,
                description=(
                    "Clauses joined by `and`: `metrics.<key>` (= != < <= > >= a number), "
                    "`params.<key>` (= != a quoted string or a number, compared as text), "
                    "`tags.<key>`, `status` or `name` (= != a quoted string). e.g. "
                    "`metrics.accuracy > 0.9 and params.lr = 0.01 and status = 'finished'`"
                ),
            ),
            OpenApiParameter(
                "order_by",
                str,
                description=(
                    "`metrics.<key>`, `name`, `started_at` or `status`, then ASC or DESC; "
                    "newest first when left out. Runs without the metric come last."
                ),
            ),
        ],
    ),
    retrieve=extend_schema(
        summary="One run: params, tags, metric summaries, datasets, environment",
        parameters=[RUN_ID],
    ),
    create=extend_schema(
        summary="Start a run",
        request=s.RunCreateSerializer,
        responses={201: s.RunDetailSerializer},
        examples=[RUN_EXAMPLE],
    ),
)
class RunViewSet(viewsets.GenericViewSet[Run]):
    serializer_class = s.RunSerializer
    permission_classes = [IsAuthenticated, TokenScopePermission, CanLogRuns]
    parser_classes = [CappedJSONParser]
    lookup_url_kwarg = "run_id"
    lookup_value_regex = PK_PATTERN

    def get_queryset(self) -> QuerySet[Run]:
        if self.action == "list":
            return run_list_queryset()
        if self.action == "retrieve":
            return run_detail_queryset()
        # Writes need the team for the permission check; the history needs the run only.
        return Run.objects.select_related("experiment__team")

    def get_serializer_class(self) -> type[s.RunSerializer]:
        return s.RunSerializer if self.action == "list" else s.RunDetailSerializer

    def _detail(self, run: Run, code: int = status.HTTP_200_OK) -> Response:
        fresh = run_detail_queryset().get(pk=run.pk)
        return Response(
            s.RunDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        found = self.get_queryset()
        if "experiment" in request.query_params:
            found = found.filter(experiment_id=_int_param(request, "experiment", 0))
        try:
            found = search_runs(
                found,
                filter_text=request.query_params.get("filter", ""),
                order_text=request.query_params.get("order_by", ""),
            )
        except SearchError as exc:
            raise ValidationError({exc.field: [str(exc)]}) from exc
        page = self.paginate_queryset(found)
        rows = list(found) if page is None else page
        data = self.get_serializer(rows, many=True).data
        return Response(data) if page is None else self.get_paginated_response(data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.RunCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = runs.create_run(actor=person(request), **serializer.validated_data)
        return self._detail(run, status.HTTP_201_CREATED)

    @extend_schema(
        summary="End a run: finished, failed or killed",
        request=s.EndRunSerializer,
        responses=s.RunDetailSerializer,
        parameters=[RUN_ID],
    )
    @action(detail=True, methods=["post"])
    def end(self, request: Request, **kwargs: Any) -> Response:
        run = self.get_object()
        serializer = s.EndRunSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        runs.end_run(actor=person(request), run=run, **serializer.validated_data)
        return self._detail(run)

    @extend_schema(
        summary="Log metrics, params and tags: all or nothing",
        description=(
            f"Up to {runs.MAX_POINTS:,} points, {runs.MAX_PARAMS:,} params and "
            f"{runs.MAX_TAGS:,} tags in one transaction. A bad entry refuses the whole batch "
            'with 400 naming its index ("[3] value: must be a finite number"); a param '
            "logged before with another value is a 409 naming both values."
        ),
        request=batches.LogBatchSerializer,
        responses={
            200: batches.LogBatchResultSerializer,
            409: OpenApiResponse(batches.PARAM_CHANGED_SCHEMA, description="A param would change."),
        },
        parameters=[RUN_ID],
        examples=[BATCH_EXAMPLE],
    )
    @action(detail=True, methods=["post"], url_path="log-batch")
    def log_batch(self, request: Request, **kwargs: Any) -> Response:
        run = self.get_object()
        batch = batches.batch_from_body(request.data)
        try:
            counts = runs.log_batch(actor=person(request), run=run, **batch)
        except runs.ParamChanged as exc:
            body = {"errors": {"params": [str(exc)]}, "key": exc.key}
            body.update(logged=exc.logged, sent=exc.sent)
            return Response(body, status=status.HTTP_409_CONFLICT)
        return Response(counts)

    @extend_schema(
        summary="One metric's points in step order, thinned for a chart when longer",
        parameters=[RUN_ID, METRIC_KEY, _max_points(HISTORY_POINTS)],
        responses=s.MetricHistorySerializer,
    )
    @action(detail=True, methods=["get"], url_path=rf"metrics/(?P<key>{KEY_PATTERN})/history")
    def metric_history(self, request: Request, key: str, **kwargs: Any) -> Response:
        run = self.get_object()
        max_points = _int_param(request, "max_points", HISTORY_POINTS)
        if key_problem(key):
            raise Http404(f"No metric {key!r} in this run.")
        series = metric_history(run.pk, key, max_points)
        if not series.total:
            raise Http404(f"No metric {key!r} in this run.")
        return Response(s.history_json(key, series))
