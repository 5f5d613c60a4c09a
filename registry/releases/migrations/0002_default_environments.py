from django.db import migrations

DEFAULTS = [
    {
        "name": "staging",
        "title": "Staging",
        "position": 1,
        "version_status": "staging",
        "approvals_needed": 1,
        "required_roles": [],
        "gates_required": False,
        "min_completeness": 0,
        "runbook_required": False,
        "guarding_metrics": [],
    },
    {
        "name": "production",
        "title": "Production",
        "position": 2,
        "version_status": "production",
        "approvals_needed": 2,
        "required_roles": ["Data scientist", "Engineer"],
        "gates_required": True,
        "min_completeness": 75,
        "runbook_required": True,
        "guarding_metrics": ["accuracy", "error_rate"],
    },
]


def create(apps, schema_editor):
    Environment = apps.get_model("releases", "Environment")
    for values in DEFAULTS:
        Environment.objects.get_or_create(name=values["name"], defaults=values)


class Migration(migrations.Migration):
    dependencies = [("releases", "0001_releases")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
