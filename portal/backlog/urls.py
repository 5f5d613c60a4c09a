from django.urls import path

from portal.backlog.views import items, iterations

app_name = "backlog"

urlpatterns = [
    # Board, list, items (portal/backlog/views/items.py).
    path("", items.board, name="board"),
    path("items/<int:pk>/", items.item_detail, name="item"),
    # Iterations (portal/backlog/views/iterations.py).
    path("iterations/<int:pk>/", iterations.iteration_detail, name="iteration"),
]
