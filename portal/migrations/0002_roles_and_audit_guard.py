"""Create the role groups, and on PostgreSQL forbid UPDATE/DELETE on the audit log."""

from django.db import migrations

ROLES = ["Data scientist", "Engineer", "Approver", "Viewer"]

AUDIT_GUARD = """
CREATE OR REPLACE FUNCTION portal_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'portal_auditevent is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER portal_auditevent_append_only
    BEFORE UPDATE OR DELETE ON portal_auditevent
    FOR EACH ROW EXECUTE FUNCTION portal_auditevent_append_only();
"""
DROP_AUDIT_GUARD = """
DROP TRIGGER IF EXISTS portal_auditevent_append_only ON portal_auditevent;
DROP FUNCTION IF EXISTS portal_auditevent_append_only();
"""


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


def add_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(AUDIT_GUARD)


def drop_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_AUDIT_GUARD)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(create_roles, remove_roles),
        migrations.RunPython(add_guard, drop_guard),
    ]
