from django.urls import path

from registry import converters  # noqa: F401 - registers the semver converter
from registry.views import artifacts, cards, compare, deletion, models, versions

app_name = "registry"

V = "<slug:name>/versions/<semver:version>"

urlpatterns = [
    path("", models.model_list, name="model-list"),
    path("new/", models.model_create, name="model-create"),
    path("<slug:name>/", models.model_detail, name="model-detail"),
    path("<slug:name>/edit/", models.model_edit, name="model-edit"),
    path("<slug:name>/delete/", deletion.model_delete, name="model-delete"),
    path("<slug:name>/compare/", compare.version_compare, name="version-compare"),
    path("<slug:name>/versions/new/", versions.version_create, name="version-create"),
    path(f"{V}/", models.model_detail, name="version-detail"),
    path(f"{V}/status/", versions.version_status, name="version-status"),
    path(f"{V}/delete/", deletion.version_delete, name="version-delete"),
    path(f"{V}/contract/edit/", versions.contract_edit, name="contract-edit"),
    path(f"{V}/card/edit/", cards.card_edit, name="card-edit"),
    path(f"{V}/card/preview/", cards.card_preview, name="card-preview"),
    path(f"{V}/card/export/", cards.card_export, name="card-export"),
    path(f"{V}/card/import/", cards.card_import, name="card-import"),
    path(f"{V}/card/import/confirm/", cards.card_import_confirm, name="card-import-confirm"),
    path(f"{V}/artifact/", artifacts.artifact_upload, name="artifact-upload"),
    path(f"{V}/artifact/status/", artifacts.artifact_status, name="artifact-status"),
    path(f"{V}/artifact/cancel/", artifacts.artifact_cancel, name="artifact-cancel"),
    path(f"{V}/artifact/download/", artifacts.artifact_download, name="artifact-download"),
]
