from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from portal import views
from portal.login import LoginView
from portal.metrics import views as metrics_views
from portal.system import views as system_views

API_PREFIX = "api/v1/"
handler403 = "portal.errors.forbidden"
handler500 = "portal.errors.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics_views.metrics, name="metrics"),
    path("system/", system_views.system, name="system"),
    path("system/jobs/<str:kind>/<int:pk>/retry/", system_views.retry, name="system-retry"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/tokens/", views.tokens, name="tokens"),
    path("account/tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
    path("admin/", admin.site.urls),
    # One versioned prefix for the whole API, so clients and CD pipelines can pin it.
    path(f"{API_PREFIX}schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The docs are pages for people: anonymous visitors go to the login page, not a 401.
    path(
        f"{API_PREFIX}docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path(
        f"{API_PREFIX}redoc/",
        login_required(SpectacularRedocView.as_view(url_name="api-schema")),
        name="api-redoc",
    ),
    path(API_PREFIX, include("portal.api.urls")),
    path(API_PREFIX, include("registry.api.urls")),
    path(API_PREFIX, include("portal.backlog.api.urls")),
    path(API_PREFIX, include("registry.experiments.api.urls")),
    path(API_PREFIX, include("feedback.api.urls")),
    path("", include("registry.mlflow_api.urls")),
    path(API_PREFIX, include("registry.evaluation.api.dataset_urls")),
    path(API_PREFIX, include("registry.evaluation.api.evaluation_urls")),
    path(API_PREFIX, include("registry.evaluation.api.gate_urls")),
    path(API_PREFIX, include("registry.monitoring.api.urls")),
    path(API_PREFIX, include("registry.releases.api.urls")),
    path("models/", include("registry.urls")),
    path("models/", include("registry.experiments.reproduce_urls")),
    path("models/", include("registry.evaluation.urls")),
    path("models/", include("registry.evaluation.gate_urls")),
    path("models/", include("registry.monitoring.urls")),
    path("datasets/", include("registry.evaluation.dataset_urls")),
    path("backlog/", include("portal.backlog.urls")),
    path("experiments/", include("registry.experiments.urls")),
    path("experiments/", include("registry.experiments.promote_urls")),
    path("notifications/", include("portal.notifications.urls")),
    path("feedback/", include("feedback.analysis_urls")),
    path("feedback/", include("feedback.urls")),
    path("releases/", include("registry.releases.urls")),
]
