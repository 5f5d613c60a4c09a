from django.urls import path

from registry import converters  # noqa: F401 - registers the semver converter
from registry.monitoring import views

app_name = "monitoring"

M = "<slug:name>/monitoring"
V = "<slug:name>/versions/<semver:version>"
R = f"{V}/drift/<int:pk>"

urlpatterns = [
    path(f"{M}/", views.model_monitoring, name="model"),
    path(f"{V}/monitoring/", views.config_edit, name="config"),
    path(f"{V}/monitoring/run/", views.report_run, name="run"),
    path(f"{R}/", views.report_detail, name="report"),
    path(f"{R}/job/", views.report_job, name="report-job"),
    path(f"{R}/cancel/", views.report_cancel, name="report-cancel"),
    path(f"{R}/columns/<int:index>/", views.report_column, name="report-column"),
]
