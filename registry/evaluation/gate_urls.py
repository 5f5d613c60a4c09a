from django.urls import path

from registry import converters  # noqa: F401 - registers the semver converter
from registry.evaluation.views import gates

app_name = "gates"

V = "<slug:name>/versions/<semver:version>"

urlpatterns = [
    path("<slug:name>/gates/", gates.model_gates, name="model-gates"),
    path("<slug:name>/gates/<int:pk>/remove/", gates.gate_remove, name="gate-remove"),
    path(f"{V}/gates/", gates.version_gates, name="version-gates"),
    path(f"{V}/gates/override/", gates.gates_override, name="version-gates-override"),
    path(f"{V}/gates/judge/", gates.gates_judge, name="version-gates-judge"),
    path(f"{V}/gates/acknowledge/", gates.contract_acknowledge, name="contract-acknowledge"),
]
