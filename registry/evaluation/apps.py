from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "registry.evaluation"
    label = "evaluation"
    verbose_name = "Datasets, evaluations and gates"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from portal.backlog.links import register_linkable

        register_linkable("evaluation", "evaluation.Evaluation")
