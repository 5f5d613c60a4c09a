from django.urls import URLPattern

app_name = "gates-api"
urlpatterns: list[URLPattern] = []
