from django.apps import AppConfig


class BacklogConfig(AppConfig):
    name = "portal.backlog"
    label = "backlog"
    verbose_name = "Backlog"
    default_auto_field = "django.db.models.BigAutoField"
