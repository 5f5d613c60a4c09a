"""The MLflow REST API (``/api/2.0/mlflow/…``) and its artifact endpoints."""

from django.urls import path

from registry.mlflow_api.views import artifacts, logged_models, registry, server, tracking

M = "api/2.0/mlflow/"
A = "api/2.0/mlflow-artifacts/artifacts"

urlpatterns = [
    path(f"{M}experiments/create", tracking.create_experiment),
    path(f"{M}experiments/get", tracking.get_experiment),
    path(f"{M}experiments/get-by-name", tracking.get_experiment_by_name),
    path(f"{M}experiments/search", tracking.search_experiments),
    path(f"{M}runs/create", tracking.create_run),
    path(f"{M}runs/get", tracking.get_run),
    path(f"{M}runs/update", tracking.update_run),
    path(f"{M}runs/search", tracking.search_runs),
    path(f"{M}runs/log-parameter", tracking.log_parameter),
    path(f"{M}runs/log-metric", tracking.log_metric),
    path(f"{M}runs/set-tag", tracking.set_tag),
    path(f"{M}runs/delete-tag", tracking.delete_tag),
    path(f"{M}runs/log-batch", tracking.log_batch),
    path(f"{M}runs/log-model", tracking.log_model),
    path(f"{M}runs/outputs", tracking.log_outputs),
    path(f"{M}metrics/get-history", tracking.metric_history),
    path(f"{M}logged-models", logged_models.create),
    path(f"{M}logged-models/search", logged_models.search),
    path(f"{M}logged-models/<str:model_id>", logged_models.one),
    path(f"{M}logged-models/<str:model_id>/tags", logged_models.tags),
    path(f"{M}logged-models/<str:model_id>/tags/<str:key>", logged_models.tag),
    path(f"{M}registered-models/create", registry.create_model),
    path(f"{M}registered-models/get", registry.model),
    path(f"{M}registered-models/update", registry.model),
    path(f"{M}registered-models/search", registry.search_models),
    path(f"{M}registered-models/alias", registry.alias),
    path(f"{M}model-versions/create", registry.create_version),
    path(f"{M}model-versions/get", registry.version),
    path(f"{M}model-versions/update", registry.version),
    path(f"{M}model-versions/search", registry.search_versions),
    path(f"{M}model-versions/set-tag", registry.version_tag),
    path(f"{M}model-versions/delete-tag", registry.version_tag),
    path(f"{M}model-versions/get-download-uri", registry.download_uri),
    path("api/3.0/mlflow/server-info", server.info),
    path(A, artifacts.listing),
    path(f"{A}/<path:path>", artifacts.one),
]
