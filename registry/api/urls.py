from rest_framework.routers import SimpleRouter

from registry.api import versions, views

app_name = "registry-api"

router = SimpleRouter()
router.register("models", views.RegisteredModelViewSet, basename="model")
router.register(
    r"models/(?P<model_name>[-a-zA-Z0-9_]+)/versions",
    versions.ModelVersionViewSet,
    basename="version",
)

urlpatterns = router.urls
