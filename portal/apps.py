from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        # Registers the OpenAPI extension for personal tokens with drf-spectacular.
        from portal.api import schema  # noqa: F401
