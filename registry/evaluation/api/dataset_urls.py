from django.urls import path

from registry.evaluation.api import datasets

app_name = "datasets-api"

D = "datasets/<slug:dataset_name>/<str:dataset_version>"

urlpatterns = [
    path("datasets/", datasets.DatasetListView.as_view(), name="datasets"),
    path(f"{D}/", datasets.DatasetView.as_view(), name="dataset"),
    path(f"{D}/validation/", datasets.DatasetValidationView.as_view(), name="validation"),
]
