from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "registry.releases"
    label = "releases"
    verbose_name = "Releases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from portal.backlog.links import register_linkable

        register_linkable("release", "releases.ReleaseRequest")
