from django.urls import path

from portal.backlog.views import board, items, iterations

app_name = "backlog"

urlpatterns = [
    # Board, list, items (portal/backlog/views/board.py and items.py).
    path("", board.board, name="board"),
    path("list/", board.item_list, name="list"),
    path("list.csv", board.item_list_csv, name="list-csv"),
    path("new/", items.item_create, name="item-create"),
    path("preview/", items.description_preview, name="preview"),
    path("items/<int:pk>/", items.item_detail, name="item"),
    path("items/<int:pk>/edit/", items.item_edit, name="item-edit"),
    path("items/<int:pk>/move/", items.item_move, name="item-move"),
    path("items/<int:pk>/comments/", items.comment_add, name="comment-add"),
    path("items/<int:pk>/links/<int:link_pk>/remove/", items.link_remove, name="link-remove"),
    # Iterations (portal/backlog/views/iterations.py).
    path("iterations/", iterations.iteration_list, name="iteration-list"),
    path("iterations/new/", iterations.iteration_create, name="iteration-create"),
    path("iterations/current/", iterations.iteration_current, name="iteration-current"),
    path("iterations/<int:pk>/", iterations.iteration_detail, name="iteration"),
    path("iterations/<int:pk>/notes/", iterations.iteration_notes, name="iteration-notes"),
]
