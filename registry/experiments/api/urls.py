from rest_framework.routers import SimpleRouter

from registry.experiments.api import views

app_name = "experiments-api"

# Path parameters are {experiment_id}, {run_id} and {key} (a metric key) in every route.
router = SimpleRouter()
router.register("experiments", views.ExperimentViewSet, basename="experiment")
router.register("runs", views.RunViewSet, basename="run")

urlpatterns = router.urls
