from django.urls import path

from portal.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("read/", views.read_all, name="read-all"),
    path("<int:pk>/read/", views.read_one, name="read"),
]
