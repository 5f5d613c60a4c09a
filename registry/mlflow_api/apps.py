from django.apps import AppConfig


class MlflowApiConfig(AppConfig):
    name = "registry.mlflow_api"
    label = "mlflow_api"
    verbose_name = "MLflow compatibility"
    default_auto_field = "django.db.models.BigAutoField"
