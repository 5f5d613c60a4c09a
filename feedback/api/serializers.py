"""Shapes of the feedback API for the schema and for list answers.

Ingest bodies are checked record by record by the services (``feedback.records``), not by
these serializers: a bad record is rejected on its own, by index, while the rest is stored.
"""

from __future__ import annotations

from rest_framework import serializers

from feedback.models import Feedback, FeedbackKind, PredictionLog


class PredictionRecordSerializer(serializers.Serializer):
    prediction_id = serializers.CharField(max_length=200, help_text="Unique per model.")
    model = serializers.CharField(required=False, help_text="Left out: the key's own model.")
    version = serializers.CharField(help_text="A registered version, e.g. 1.2.0.")
    timestamp = serializers.DateTimeField(required=False, help_text="ISO 8601; now if left out.")
    features = serializers.DictField(help_text="The inputs, checked against the input contract.")
    output = serializers.DictField(
        help_text='{"label": "…"} or {"value": 1.5}, optionally {"probabilities": {…}}.'
    )
    latency_ms = serializers.FloatField(required=False, min_value=0)
    end_user = serializers.CharField(
        required=False, help_text="A pseudonymous end-user id (personal data)."
    )
    metadata = serializers.DictField(required=False, help_text="Request metadata (personal).")


class RejectedSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    reason = serializers.CharField()


class BatchResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.IntegerField()
    errors = RejectedSerializer(many=True, help_text="The first 100 rejected records.")  # type: ignore[assignment]


class PredictionResultSerializer(BatchResultSerializer):
    contract_violations = serializers.IntegerField(
        help_text="Stored records whose features break the version's input contract."
    )


class FeedbackRecordSerializer(serializers.Serializer):
    prediction_id = serializers.CharField(max_length=200)
    model = serializers.CharField(required=False, help_text="Left out: the key's own model.")
    kind = serializers.ChoiceField(choices=FeedbackKind.choices)
    value = serializers.JSONField(
        help_text='thumbs: "up"/"down"; rating: 1-5; label: the right label; value: the right '
        "number; comment: the text."
    )
    comment = serializers.CharField(required=False, max_length=5_000)
    end_user = serializers.CharField(required=False, max_length=200)
    idempotency_key = serializers.CharField(required=False, max_length=200)


class OutcomeRecordSerializer(serializers.Serializer):
    prediction_id = serializers.CharField(max_length=200)
    model = serializers.CharField(required=False)
    name = serializers.RegexField(r"^[a-z][a-z0-9_]{0,99}$", help_text="e.g. converted")
    value = serializers.JSONField(help_text="A number, or true/false.")
    timestamp = serializers.DateTimeField(required=False)


class ErasureSerializer(serializers.Serializer):
    comments_deleted = serializers.IntegerField()
    feedback_anonymised = serializers.IntegerField()
    predictions = serializers.IntegerField()


class PredictionLogSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.name")
    version = serializers.CharField(source="version.version")

    class Meta:
        model = PredictionLog
        fields = [
            "prediction_id",
            "model",
            "version",
            "predicted_at",
            "received_at",
            "features",
            "output",
            "latency_ms",
            "end_user",
            "metadata",
            "contract_violation",
            "violations",
        ]
        read_only_fields = fields


class FeedbackSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.name")
    logged = serializers.SerializerMethodField(help_text="Whether the prediction is logged yet.")

    class Meta:
        model = Feedback
        fields = [
            "id",
            "prediction_id",
            "model",
            "kind",
            "score",
            "label",
            "comment",
            "end_user",
            "source",
            "created_at",
            "reviewed_at",
            "logged",
        ]
        read_only_fields = fields

    def get_logged(self, feedback: Feedback) -> bool:
        return feedback.prediction_key_id is not None
