from django.urls import path

from portal.backlog import views

app_name = "backlog"

urlpatterns = [
    path("", views.board, name="board"),
    path("items/<int:pk>/", views.item_detail, name="item"),
    path("iterations/<int:pk>/", views.iteration_detail, name="iteration"),
]
