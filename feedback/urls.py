from django.urls import path

from feedback import converters  # noqa: F401 - registers the prediction_id converter
from feedback.views import inbox, keys, predictions

app_name = "feedback"

urlpatterns = [
    path("", inbox.inbox, name="inbox"),
    path("export.csv", inbox.inbox_csv, name="inbox-csv"),
    path("triage/", inbox.triage, name="triage"),
    path("models/<slug:name>/inbox/", inbox.model_inbox, name="model-inbox"),
    path("models/<slug:name>/keys/", keys.keys, name="keys"),
    path("models/<slug:name>/keys/<int:pk>/revoke/", keys.key_revoke, name="key-revoke"),
    # A prediction id is the client's own: any text (feedback/converters.py).
    path(
        "models/<slug:name>/predictions/<prediction_id:prediction_id>/",
        predictions.prediction,
        name="prediction",
    ),
]
