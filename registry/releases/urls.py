from django.urls import path

from registry import converters  # noqa: F401 - registers the semver converter
from registry.releases import views

app_name = "releases"

R = "<int:pk>"
V = "<slug:name>/<semver:version>"
M = "models/<slug:name>"

urlpatterns = [
    path("", views.release_list, name="list"),
    path(f"{R}/", views.release_detail, name="detail"),
    path(f"{R}/decide/", views.release_decide, name="decide"),
    path(f"{R}/cancel/", views.release_cancel, name="cancel"),
    path(f"{R}/deployment/", views.release_deployment, name="deployment"),
    path(f"{R}/promote/", views.release_promote, name="promote"),
    path(f"{R}/rollback/", views.release_rollback, name="rollback"),
    path(f"request/{V}/", views.release_request, name="request"),
    path(f"request/{V}/override/<slug:check>/", views.release_override, name="override"),
    path(f"{M}/runbook/", views.runbook_edit, name="runbook"),
    path(f"{M}/runbook/revisions/", views.runbook_history, name="runbook-revisions"),
    path(f"{M}/audit/", views.audit_log, name="model-audit"),
    path(f"{M}/audit.csv", views.audit_csv, name="model-audit-csv"),
    path("delivery/", views.delivery, name="delivery"),
    path("audit/", views.audit_log, name="audit"),
    path("audit.csv", views.audit_csv, name="audit-csv"),
    path("webhooks/", views.webhooks, name="webhooks"),
    path(f"webhooks/{R}/delete/", views.webhook_delete, name="webhook-delete"),
    path(f"webhooks/deliveries/{R}/resend/", views.delivery_resend, name="delivery-resend"),
]
