"""What each persona gets from the MLflow REST API (``/api/2.0/mlflow…``, ``/api/3.0/…``).

These routes read no session: every persona sends its personal token as the MLflow client
does (``Authorization: Bearer <key>``); victor's is read-only, as a Viewer's must be; the
revoked persona sends alice's revoked token. The rules are the native API's (docs/api.md,
"MLflow"): everyone signed in reads; a team's Data scientists and Engineers log to its
experiments and register its models; a read-only token reads only. A method the endpoint does
not answer is MLflow's ENDPOINT_NOT_FOUND (404), before anyone is asked for a token.
"""

from __future__ import annotations

from tests.security.matrix import API, API_TEAM, delete, everyone, patch, post, put, rule

# A write-only MLflow endpoint answers GET with ENDPOINT_NOT_FOUND, signed in or not.
MLFLOW_POST_ONLY = everyone(404, anonymous=404)
# Searches are POSTed by the client but only read.
SEARCH = everyone(200, anonymous=401)
# Creating in alice's team (the ``handoff.team`` tag names it): someone outside it is refused
# as MLflow refuses a bad parameter (INVALID_PARAMETER_VALUE, 400) naming the tag; a Viewer's
# read-only token is refused first (PERMISSION_DENIED, 403).
IN_ALICES_TEAM = API_TEAM.but(charlie=400, dana=400, root=400)
TEAM_TAG = [{"key": "handoff.team", "value": "risk-modelling"}]

M = "api/2.0/mlflow/"
RUN = {"run_id": "{w.run.pk}"}
MODEL = {"name": "{w.model.name}"}
VERSION = {"name": "{w.model.name}", "version": "1"}
LOGGED = {"model_id": "{w.logged_model.model_id}"}


ARTIFACTS = "{w.experiment.pk}/{w.run.pk}/artifacts"
# Files are not rolled back with the database: writes use a file of their own.
SCRATCH = {"path": f"{ARTIFACTS}/scratch.txt"}

RULES = {
    # Tracking: experiments and runs --------------------------------------------------------------
    f"{M}experiments/create": rule(
        MLFLOW_POST_ONLY, post(IN_ALICES_TEAM, {"name": "mlflow-sweep", "tags": TEAM_TAG})
    ),
    f"{M}experiments/get": rule(API, query={"experiment_id": "{w.experiment.pk}"}),
    f"{M}experiments/get-by-name": rule(API, query={"experiment_name": "{w.experiment.name}"}),
    f"{M}experiments/search": rule(API, post(SEARCH, {})),
    f"{M}runs/create": rule(
        MLFLOW_POST_ONLY, post(API_TEAM, {"experiment_id": "{w.experiment.pk}"})
    ),
    f"{M}runs/get": rule(API, query=RUN),
    f"{M}runs/update": rule(MLFLOW_POST_ONLY, post(API_TEAM, {**RUN, "run_name": "renamed"})),
    f"{M}runs/search": rule(
        MLFLOW_POST_ONLY, post(SEARCH, {"experiment_ids": ["{w.experiment.pk}"]})
    ),
    f"{M}runs/log-parameter": rule(
        MLFLOW_POST_ONLY, post(API_TEAM, {**RUN, "key": "batch", "value": "32"})
    ),
    f"{M}runs/log-metric": rule(
        MLFLOW_POST_ONLY,
        post(API_TEAM, {**RUN, "key": "loss", "value": 0.1, "timestamp": 0, "step": 9}),
    ),
    f"{M}runs/set-tag": rule(
        MLFLOW_POST_ONLY, post(API_TEAM, {**RUN, "key": "stage", "value": "final"})
    ),
    f"{M}runs/delete-tag": rule(MLFLOW_POST_ONLY, post(API_TEAM, {**RUN, "key": "stage"})),
    f"{M}runs/log-batch": rule(
        MLFLOW_POST_ONLY, post(API_TEAM, {**RUN, "tags": [{"key": "stage", "value": "final"}]})
    ),
    f"{M}runs/log-model": rule(MLFLOW_POST_ONLY, post(API_TEAM, {**RUN, "model_json": "{{}}"})),
    f"{M}runs/outputs": rule(MLFLOW_POST_ONLY, post(API_TEAM, {**RUN, "models": []})),
    f"{M}metrics/get-history": rule(API, query={**RUN, "metric_key": "loss"}),
    # Logged models ----------------------------------------------------------------------------
    f"{M}logged-models": rule(
        MLFLOW_POST_ONLY, post(API_TEAM, {"experiment_id": "{w.experiment.pk}"})
    ),
    f"{M}logged-models/search": rule(
        MLFLOW_POST_ONLY, post(SEARCH, {"experiment_ids": ["{w.experiment.pk}"]})
    ),
    f"{M}logged-models/<str:model_id>": rule(
        API,
        patch(API_TEAM, {"status": "LOGGED_MODEL_READY"}),
        delete(API_TEAM),
        args=LOGGED,
    ),
    f"{M}logged-models/<str:model_id>/tags": rule(
        MLFLOW_POST_ONLY,
        patch(API_TEAM, {"tags": [{"key": "stage", "value": "final"}]}),
        args=LOGGED,
    ),
    f"{M}logged-models/<str:model_id>/tags/<str:key>": rule(
        MLFLOW_POST_ONLY, delete(API_TEAM), args={**LOGGED, "key": "stage"}
    ),
    # The model registry ---------------------------------------------------------------------
    f"{M}registered-models/create": rule(
        MLFLOW_POST_ONLY, post(IN_ALICES_TEAM, {"name": "mlflow-model", "tags": TEAM_TAG})
    ),
    f"{M}registered-models/get": rule(
        API, patch(API_TEAM, {**MODEL, "description": "Churn."}), query=MODEL
    ),
    f"{M}registered-models/update": rule(
        API, patch(API_TEAM, {**MODEL, "description": "Churn."}), query=MODEL
    ),
    f"{M}registered-models/search": rule(API, post(SEARCH, {})),
    f"{M}registered-models/alias": rule(
        API,
        post(API_TEAM, {**MODEL, "alias": "stable", "version": "1"}),
        delete(API_TEAM, {**MODEL, "alias": "champion"}),
        query={**MODEL, "alias": "champion"},
    ),
    f"{M}model-versions/create": rule(
        MLFLOW_POST_ONLY,
        post(API_TEAM, {**MODEL, "source": "models:/{w.logged_model.model_id}"}),
    ),
    f"{M}model-versions/get": rule(
        API, patch(API_TEAM, {**VERSION, "description": "First."}), query=VERSION
    ),
    f"{M}model-versions/update": rule(
        API, patch(API_TEAM, {**VERSION, "description": "First."}), query=VERSION
    ),
    f"{M}model-versions/search": rule(API, post(SEARCH, {})),
    f"{M}model-versions/set-tag": rule(
        MLFLOW_POST_ONLY,
        post(API_TEAM, {**VERSION, "key": "stage", "value": "final"}),
        delete(API_TEAM, {**VERSION, "key": "stage"}),
    ),
    f"{M}model-versions/delete-tag": rule(
        MLFLOW_POST_ONLY,
        post(API_TEAM, {**VERSION, "key": "stage", "value": "final"}),
        delete(API_TEAM, {**VERSION, "key": "stage"}),
    ),
    # 1.1.0 (MLflow's version 2) was registered from a logged model.
    f"{M}model-versions/get-download-uri": rule(API, query={**MODEL, "version": "2"}),
    "api/3.0/mlflow/server-info": rule(API),
    # Artifacts ------------------------------------------------------------------------------
    "api/2.0/mlflow-artifacts/artifacts": rule(API, query={"path": ARTIFACTS}),
    "api/2.0/mlflow-artifacts/artifacts/<path:path>": rule(
        API,
        put(API_TEAM, args=SCRATCH),
        delete(API_TEAM, args=SCRATCH),
        args={"path": f"{ARTIFACTS}/notes.txt"},
    ),
}
