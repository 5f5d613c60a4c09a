from django.urls import path

from registry import converters  # noqa: F401 - registers the semver converter
from registry.monitoring.api import views

app_name = "monitoring-api"

V = "models/<slug:model_name>/versions/<semver:version>"
R = f"{V}/drift-reports/<int:report_id>"

urlpatterns = [
    path(f"{V}/monitoring/", views.MonitoringConfigView.as_view(), name="config"),
    path(f"{V}/drift-reports/", views.VersionDriftReportsView.as_view(), name="reports"),
    path(f"{R}/", views.DriftReportView.as_view(), name="report"),
    path(f"{R}/cancel/", views.DriftReportCancelView.as_view(), name="report-cancel"),
]
