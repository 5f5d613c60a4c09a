from rest_framework.routers import SimpleRouter

app_name = "backlog-api"

router = SimpleRouter()

urlpatterns = router.urls
