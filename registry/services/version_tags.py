"""Tags a client attaches to a version: keys and values, as MLflow's model-version tags."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from portal.people import Person
from portal.services.audit import record_event
from registry.experiments.services.keys import key_problem
from registry.models import ModelVersion, VersionTag
from registry.permissions import require_edit

MAX_VALUE = 5_000


def check_tag(key: str, value: str) -> None:
    if problem := key_problem(key):
        raise ValidationError({"key": problem})
    if not isinstance(value, str) or len(value) > MAX_VALUE or "\x00" in value:
        raise ValidationError({"value": f"A text of at most {MAX_VALUE:,} characters."})


@transaction.atomic
def set_version_tag(*, actor: Person, version: ModelVersion, key: str, value: str) -> VersionTag:
    require_edit(actor, version.model)
    check_tag(key, value)
    tag, _ = VersionTag.objects.update_or_create(
        version=version, key=key, defaults={"value": value}
    )
    record_event(actor=actor, verb="version.tagged", target=version, after={key: value})
    return tag


@transaction.atomic
def delete_version_tag(*, actor: Person, version: ModelVersion, key: str) -> None:
    require_edit(actor, version.model)
    deleted, _ = VersionTag.objects.filter(version=version, key=key).delete()
    if deleted:
        record_event(actor=actor, verb="version.untagged", target=version, before={"key": key})
