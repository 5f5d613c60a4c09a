from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = "Feedback"

    def ready(self) -> None:
        from portal.backlog.links import register_linkable

        # Triage files backlog items about feedback and the predictions it is about.
        register_linkable("feedback", "feedback.Feedback")
        register_linkable("prediction", "feedback.PredictionKey")
