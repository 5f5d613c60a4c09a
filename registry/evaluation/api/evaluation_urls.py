from django.urls import path

from registry import converters  # noqa: F401 - registers the semver converter
from registry.evaluation.api import evaluations

app_name = "evaluations-api"

V = "models/<slug:model_name>/versions/<semver:version>"

urlpatterns = [
    path(f"{V}/input-mapping/", evaluations.InputMappingView.as_view(), name="input-mapping"),
    path(
        f"{V}/evaluations/",
        evaluations.VersionEvaluationsView.as_view(),
        name="version-evaluations",
    ),
    path(
        "evaluations/<int:evaluation_id>/", evaluations.EvaluationView.as_view(), name="evaluation"
    ),
    path(
        "evaluations/<int:evaluation_id>/cancel/",
        evaluations.EvaluationCancelView.as_view(),
        name="evaluation-cancel",
    ),
]
