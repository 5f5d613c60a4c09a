# A model's newest version in a given status (its production version in the API) is one
# index probe: without it PostgreSQL reads and sorts every version of the model.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0004_artifact_jobs"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="modelversion",
            index=models.Index(
                fields=["model", "status", "-sort_key"], name="registry_version_by_status"
            ),
        ),
    ]
