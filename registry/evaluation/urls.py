from django.urls import path

from registry import converters  # noqa: F401 - registers the semver converter
from registry.evaluation.views import evaluations, mapping

app_name = "evaluation"

V = "<slug:name>/versions/<semver:version>"
E = f"{V}/evaluations/<int:pk>"

urlpatterns = [
    path(f"{V}/evaluations/new/", evaluations.evaluation_start, name="evaluation-start"),
    path(f"{E}/", evaluations.evaluation_detail, name="evaluation"),
    path(f"{E}/job/", evaluations.evaluation_job, name="evaluation-job"),
    path(f"{E}/cancel/", evaluations.evaluation_cancel, name="evaluation-cancel"),
    path(f"{V}/input-mapping/", mapping.mapping_edit, name="mapping-edit"),
]
