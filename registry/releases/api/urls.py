from django.urls import path
from rest_framework.routers import SimpleRouter

from registry.releases.api import views

app_name = "releases-api"

# Path parameters are {release_id}, {webhook_id} and {delivery_id} in every route.
router = SimpleRouter()
router.register("releases", views.ReleaseViewSet, basename="release")
router.register("release-webhooks", views.ReleaseWebhookViewSet, basename="release-webhook")
router.register("webhook-deliveries", views.WebhookDeliveryViewSet, basename="webhook-delivery")

urlpatterns = [
    path("environments/", views.EnvironmentListView.as_view(), name="environments"),
    path(
        "environments/<slug:environment_name>/models/<slug:model_name>/",
        views.WhatRunsView.as_view(),
        name="what-runs",
    ),
    *router.urls,
]
