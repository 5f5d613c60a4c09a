"""The promote form, to be included under ``experiments/``: ``runs/<pk>/promote/``."""

from django.urls import path

from registry.experiments import promote_views

app_name = "experiments-promote"

urlpatterns = [
    path("runs/<int:pk>/promote/", promote_views.promote, name="run-promote"),
]
