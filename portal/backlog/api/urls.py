from rest_framework.routers import SimpleRouter

from portal.backlog.api import iterations, views
from portal.notifications import api as notifications

app_name = "backlog-api"

# Path parameters are {item_id}, {link_id} and {iteration_id} in every route.
ITEM = rf"backlog-items/(?P<item_id>{views.PK_PATTERN})"

router = SimpleRouter()
router.register("backlog-items", views.BacklogItemViewSet, basename="backlog-item")
router.register(f"{ITEM}/comments", views.ItemCommentViewSet, basename="item-comment")
router.register(f"{ITEM}/links", views.ItemLinkViewSet, basename="item-link")
router.register("iterations", iterations.IterationViewSet, basename="iteration")
# The notifications app has no API urls module of its own: its routes live here.
router.register("notifications", notifications.NotificationViewSet, basename="notification")

urlpatterns = router.urls
