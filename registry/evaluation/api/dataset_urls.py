from django.urls import URLPattern

app_name = "datasets-api"
urlpatterns: list[URLPattern] = []
