from django.urls import path

from registry.experiments.views import compare, pages

app_name = "experiments"

urlpatterns = [
    path("", pages.experiment_index, name="list"),
    path("<int:pk>/", pages.experiment_detail, name="detail"),
    path("<int:pk>/compare/", compare.run_compare, name="compare"),
    path("<int:pk>/direction/", pages.metric_direction, name="direction"),
    path("runs/<int:pk>/", pages.run_detail, name="run"),
]
