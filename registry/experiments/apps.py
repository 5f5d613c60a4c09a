from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    name = "registry.experiments"
    label = "experiments"
    verbose_name = "Experiments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from portal.backlog.links import register_linkable

        register_linkable("run", "experiments.Run")
