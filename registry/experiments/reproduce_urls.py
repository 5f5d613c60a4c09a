"""The how-to-reproduce page of a promoted version, included under ``models/``."""

from django.urls import path

from registry import converters  # noqa: F401 - registers the semver converter
from registry.experiments.views import reproduce

app_name = "experiments-reproduce"

urlpatterns = [
    path(
        "<slug:name>/versions/<semver:version>/reproduce/",
        reproduce.version_reproduce,
        name="version-reproduce",
    ),
]
