from django.urls import path

from feedback.views import analysis
from registry import converters  # noqa: F401 - registers the semver converter

app_name = "feedback-analysis"

urlpatterns = [
    path("models/<slug:name>/", analysis.model_feedback, name="model"),
    path(
        "models/<slug:name>/versions/<semver:version>/analysis/",
        analysis.version_analysis,
        name="version",
    ),
]
