from django.urls import URLPattern

app_name = "evaluations-api"
urlpatterns: list[URLPattern] = []
