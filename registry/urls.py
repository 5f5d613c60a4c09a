from django.urls import path

from registry import converters  # noqa: F401 - registers the semver converter

app_name = "registry"

urlpatterns: list = []
