from django.urls import path, re_path

from registry import converters  # noqa: F401 - registers the semver converter
from registry.evaluation.api import gates

app_name = "gates-api"

V = "models/<slug:model_name>/versions/<semver:version>"

urlpatterns = [
    path("models/<slug:model_name>/gates/", gates.ModelGatesView.as_view(), name="model-gates"),
    path("teams/<slug:team_name>/gates/", gates.TeamGatesView.as_view(), name="team-gates"),
    # Up to 18 digits: a longer id is a 404 before it reaches a 64-bit column.
    re_path(r"^gates/(?P<gate_id>[0-9]{1,18})/$", gates.GateView.as_view(), name="gate"),
    path(f"{V}/gates/", gates.VersionGatesView.as_view(), name="version-gates"),
    path(f"{V}/gates/override/", gates.GateOverrideView.as_view(), name="gates-override"),
    path(f"{V}/gates/judge/", gates.GateJudgeView.as_view(), name="gates-judge"),
    path(
        f"{V}/contract-acknowledgement/",
        gates.ContractAcknowledgementView.as_view(),
        name="contract-acknowledgement",
    ),
]
