"""MLflow's tracking endpoints: experiments, runs, what runs log, and metric histories."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from registry.experiments import series
from registry.experiments.models import Experiment, Run
from registry.mlflow_api import shapes
from registry.mlflow_api.errors import MlflowError, invalid, missing
from registry.mlflow_api.http import Call, endpoint
from registry.mlflow_api.lookups import as_id, experiment_numbered
from registry.mlflow_api.models import LoggedModel
from registry.mlflow_api.paging import page_offset, page_size, page_token, paged
from registry.mlflow_api.search import FilterError, filtered_runs, ordered_runs
from registry.mlflow_api.services import logged_models, tracking

# The client's own limits on log-batch, which the server enforces too.
MAX_METRICS, MAX_PARAMS_TAGS, MAX_ENTITIES = 1_000, 100, 1_000
MAX_SEARCH_RESULTS = 50_000
MAX_HISTORY_PAGE = 25_000


def experiment_by_id(text: str) -> Experiment:
    found = experiment_numbered(text)
    if found is None:
        raise missing(f"No Experiment with id={text} exists")
    return found


def runs_queryset() -> QuerySet[Run]:
    return Run.objects.select_related("user", "experiment__team").prefetch_related(
        "params",
        "tags",
        "summaries",
        Prefetch("model_outputs", queryset=LoggedModel.objects.only("model_id", "output_step")),
    )


def run_by_id(call: Call, *, full: bool = False) -> Run:
    text = call.either("run_id", "run_uuid")
    rows = runs_queryset() if full else Run.objects.select_related("experiment__team")
    pk = as_id(text)
    found = rows.filter(pk=pk).first() if pk else None
    if found is None:
        raise missing(f"Run with id={text} not found")
    return found


# Experiments ---------------------------------------------------------------------------------


@endpoint("POST")
def create_experiment(call: Call) -> dict[str, Any]:
    name = call.text("name")
    if Experiment.objects.filter(name=name).exists():
        raise MlflowError("RESOURCE_ALREADY_EXISTS", f"Experiment(name={name}) already exists.")
    experiment = tracking.create_experiment(actor=call.writer(), name=name, tags=call.tags())
    return {"experiment_id": str(experiment.pk)}


@endpoint("GET")
def get_experiment(call: Call) -> dict[str, Any]:
    experiment = experiment_by_id(call.text("experiment_id"))
    return {"experiment": shapes.experiment(experiment)}


@endpoint("GET")
def get_experiment_by_name(call: Call) -> dict[str, Any]:
    name = call.text("experiment_name")
    found = Experiment.objects.select_related("team").filter(name=name).first()
    if found is None:
        raise missing(f"Could not find experiment with name '{name}'")
    return {"experiment": shapes.experiment(found)}


@endpoint("GET", "POST")
def search_experiments(call: Call) -> dict[str, Any]:
    rows = Experiment.objects.select_related("team").order_by("-created_at", "-pk")
    text = call.text("filter", required=False)
    if text:
        rows = rows.filter(name__icontains=_name_pattern(text))
    return paged(call, rows, "experiments", shapes.experiment, default=1_000)


def _name_pattern(text: str) -> str:
    """``name LIKE '%x%'``, the filter clients send here, as the text to look for."""
    head, _, value = text.partition("'")
    if head.strip().lower() not in ("name like", "name ilike", "attribute.name like", "name ="):
        raise invalid(f"Only name filters are supported here, not {text[:80]!r}.")
    return value.rstrip("'").strip("%")


# Runs --------------------------------------------------------------------------------------


@endpoint("POST")
def create_run(call: Call) -> dict[str, Any]:
    experiment = experiment_by_id(call.text("experiment_id"))
    run = tracking.start_run(
        actor=call.writer(),
        experiment=experiment,
        run_name=call.text("run_name", required=False),
        start_time=call.fields.get("start_time"),
        tags=call.tags(),
    )
    return {"run": shapes.run(runs_queryset().get(pk=run.pk))}


@endpoint("GET")
def get_run(call: Call) -> dict[str, Any]:
    return {"run": shapes.run(run_by_id(call, full=True))}


@endpoint("POST")
def update_run(call: Call) -> dict[str, Any]:
    run = run_by_id(call)
    run = tracking.update_run(
        actor=call.writer(),
        run=run,
        status=call.text("status", required=False),
        end_time=call.fields.get("end_time"),
        run_name=call.text("run_name", required=False),
    )
    return {"run_info": shapes.run_info(Run.objects.select_related("user").get(pk=run.pk))}


@endpoint("POST")
def search_runs(call: Call) -> dict[str, Any]:
    ids = [str(i) for i in call.items("experiment_ids")]
    if not ids:
        raise invalid("experiment_ids: name at least one experiment.")
    rows = runs_queryset().filter(experiment_id__in=[pk for pk in map(as_id, ids) if pk])
    order_by = [str(item) for item in call.items("order_by")]
    try:
        rows = ordered_runs(filtered_runs(rows, call.text("filter", required=False)), order_by)
    except FilterError as exc:
        raise invalid(str(exc)) from None
    return paged(call, rows, "runs", shapes.run, default=1_000, most=MAX_SEARCH_RESULTS)


@endpoint("POST")
def log_parameter(call: Call) -> dict[str, Any]:
    run = run_by_id(call)
    param = {"key": call.text("key"), "value": call.fields.get("value")}
    tracking.log_batch(actor=call.writer(), run=run, metrics=[], params=[param], tags=[])
    return {}


@endpoint("POST")
def log_metric(call: Call) -> dict[str, Any]:
    run = run_by_id(call)
    point = {key: call.fields.get(key) for key in ("key", "value", "timestamp", "step")}
    point["step"] = point["step"] or 0
    tracking.log_batch(actor=call.writer(), run=run, metrics=[point], params=[], tags=[])
    return {}


@endpoint("POST")
def set_tag(call: Call) -> dict[str, Any]:
    run = run_by_id(call)
    value = call.fields.get("value")
    tracking.set_tag(
        actor=call.writer(), run=run, key=call.text("key"), value="" if value is None else value
    )
    return {}


@endpoint("POST")
def delete_tag(call: Call) -> dict[str, Any]:
    run = run_by_id(call)
    tracking.delete_tag(actor=call.writer(), run=run, key=call.text("key"))
    return {}


@endpoint("POST")
def log_batch(call: Call) -> dict[str, Any]:
    run = run_by_id(call)
    metrics, params, tags = call.items("metrics"), call.items("params"), call.items("tags")
    if len(metrics) > MAX_METRICS:
        raise invalid(
            f"A batch logging request can contain at most {MAX_METRICS} metrics. "
            f"Got {len(metrics)} metrics."
        )
    if len(params) > MAX_PARAMS_TAGS or len(tags) > MAX_PARAMS_TAGS:
        raise invalid(
            f"A batch logging request can contain at most {MAX_PARAMS_TAGS} params "
            f"and at most {MAX_PARAMS_TAGS} tags."
        )
    if len(metrics) + len(params) + len(tags) > MAX_ENTITIES:
        raise invalid(
            f"A batch logging request can contain at most {MAX_ENTITIES} metrics, "
            "params and tags in total."
        )
    tracking.log_batch(actor=call.writer(), run=run, metrics=metrics, params=params, tags=tags)
    return {}


@endpoint("POST")
def log_model(call: Call) -> dict[str, Any]:
    """MLflow 2.x reports a logged model's MLmodel here; its files are already artifacts."""
    tracking.note_logged_model(
        actor=call.writer(), run=run_by_id(call), model_json=call.text("model_json")
    )
    return {}


@endpoint("POST")
def log_outputs(call: Call) -> dict[str, Any]:
    run = run_by_id(call)
    outputs = call.items("models")
    logged_models.record_outputs(actor=call.writer(), run=run, outputs=outputs)
    return {}


@endpoint("GET")
def metric_history(call: Call) -> dict[str, Any]:
    run = run_by_id(call)
    key = call.text("metric_key")
    size = page_size(call, default=MAX_HISTORY_PAGE, most=MAX_HISTORY_PAGE)
    offset = page_offset(call)
    found = series.read([run.pk], [key]).get((run.pk, key))
    if found is None:
        return {"metrics": []}
    steps = found.steps[offset : offset + size].tolist()
    values = found.values[offset : offset + size].tolist()
    stamps = found.stamps[offset : offset + size].tolist()
    answer: dict[str, Any] = {
        "metrics": [
            {"key": key, "value": value, "timestamp": stamp, "step": step}
            for step, value, stamp in zip(steps, values, stamps, strict=True)
        ]
    }
    if offset + size < len(found):
        answer["next_page_token"] = page_token(offset + size)
    return answer
