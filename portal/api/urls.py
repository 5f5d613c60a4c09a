from django.urls import path

from portal.api import views

app_name = "portal-api"

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
]
