from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        # Registers the OpenAPI extension for personal tokens with drf-spectacular.
        from portal.api import schema  # noqa: F401

        # Counts and times every Celery task (the signals fire in workers and eager runs).
        from portal.metrics import tasks  # noqa: F401
