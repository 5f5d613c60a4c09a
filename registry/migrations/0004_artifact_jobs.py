# Artifact validation becomes a portal.jobs.Job: attempts, times, a lease and cancel.

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.db.models import F
from django.db.models.functions import Coalesce

import portal.jobs

JUDGED = ["valid", "invalid"]


def backfill_jobs(apps, schema_editor):
    """Existing rows keep their outcome; their job fields say what is known of the run."""
    if schema_editor.connection.vendor == "postgresql":
        # Check the new foreign key per statement: a deferred check still pending at the end
        # would stop PostgreSQL from creating started_by's index in this transaction.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    Artifact = apps.get_model("registry", "Artifact")
    Artifact.objects.update(queued_at=F("created_at"), started_by=F("uploaded_by"))
    Artifact.objects.filter(status__in=JUDGED).update(
        attempts=1, progress=100, finished_at=Coalesce(F("finished_at"), F("created_at"))
    )
    # No lease: the first requeue run takes these over (they were started once).
    Artifact.objects.filter(status="validating").update(attempts=1)


def restore_statuses(apps, schema_editor):
    """Going back, the old code knows only four statuses; a failed or cancelled job is invalid."""
    Artifact = apps.get_model("registry", "Artifact")
    Artifact.objects.filter(status__in=["failed", "cancelled"]).update(status="invalid")
    Artifact.objects.exclude(status__in=JUDGED).update(finished_at=None)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0003_stored_markdown_and_revisions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # validated_at was set exactly when a validation finished.
        migrations.RenameField(
            model_name="artifact",
            old_name="validated_at",
            new_name="finished_at",
        ),
        migrations.AddField(
            model_name="artifact",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="artifact",
            name="cancel_requested",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="artifact",
            name="lease_expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="artifact",
            name="lease_token",
            field=models.UUIDField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="artifact",
            name="max_attempts",
            field=models.PositiveSmallIntegerField(default=portal.jobs.default_max_attempts),
        ),
        migrations.AddField(
            model_name="artifact",
            name="progress_text",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="artifact",
            name="queued_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name="artifact",
            name="started_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="artifact",
            name="started_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="artifact",
            name="progress",
            field=models.PositiveSmallIntegerField(
                default=0, validators=[django.core.validators.MaxValueValidator(100)]
            ),
        ),
        migrations.AlterField(
            model_name="artifact",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Waiting for a worker"),
                    ("validating", "Validating"),
                    ("valid", "Valid"),
                    ("invalid", "Artifact invalid"),
                    ("failed", "Validation failed"),
                    ("cancelled", "Validation cancelled"),
                ],
                db_index=True,
                default="pending",
                max_length=16,
            ),
        ),
        migrations.RunPython(backfill_jobs, restore_statuses),
    ]
