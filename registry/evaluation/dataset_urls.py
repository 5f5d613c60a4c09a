from django.urls import path

from registry.evaluation.views import datasets

app_name = "datasets"

D = "<slug:name>/<str:version>"

urlpatterns = [
    path("", datasets.dataset_list, name="list"),
    path("new/", datasets.dataset_create, name="create"),
    path(f"{D}/", datasets.dataset_detail, name="dataset"),
    path(f"{D}/job/", datasets.dataset_job, name="job"),
    path(f"{D}/job/cancel/", datasets.dataset_cancel, name="cancel"),
    path(f"{D}/download/", datasets.dataset_download, name="download"),
    path(f"{D}/delete/", datasets.dataset_delete, name="delete"),
    path(f"{D}/validate/", datasets.dataset_validate, name="validate"),
]
