from django.urls import URLPattern

app_name = "gates"
urlpatterns: list[URLPattern] = []
