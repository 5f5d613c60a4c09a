from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "registry.monitoring"
    label = "monitoring"
    verbose_name = "Drift monitoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from portal.backlog.links import register_linkable

        register_linkable("drift report", "monitoring.DriftReport")
