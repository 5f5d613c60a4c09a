"""Free aliases of a model's versions (``champion``), and the names no alias may take.

What runs in an environment moves only through an approved release, so an environment's
name is never an alias: a client that tries is told where the release page is, and nothing
changes.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse

from portal.people import Person
from portal.services.audit import record_event
from registry.choices import VersionStatus
from registry.models import ModelAlias, ModelVersion, RegisteredModel
from registry.permissions import require_edit
from registry.releases.models import Environment

ALIAS = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,99}")
# Version statuses that only a release sets, protected even before an environment uses them.
RELEASE_WORDS = {VersionStatus.STAGING, VersionStatus.PRODUCTION, VersionStatus.ARCHIVED}


class ProtectedAlias(PermissionDenied):
    """An environment's name: it moves through a release, never as an alias."""


def check_alias(model: RegisteredModel, version: ModelVersion, name: str) -> None:
    if not ALIAS.fullmatch(name or ""):
        raise ValidationError(
            {"alias": "1-100 letters, digits, '_' or '-', starting with a letter or digit."}
        )
    if name.isdigit() or re.fullmatch(r"v\d+", name, re.IGNORECASE):
        raise ValidationError({"alias": f"{name!r} reads as a version number; choose a word."})
    protected = RELEASE_WORDS | set(Environment.objects.values_list("name", flat=True))
    if name.lower() in {word.lower() for word in protected}:
        url = settings.HANDOFF_BASE_URL + reverse(
            "releases:request", args=[model.name, version.version]
        )
        raise ProtectedAlias(
            f"{name!r} is an environment: a version reaches it only through an approved "
            f"release. Request one at {url}"
        )


@transaction.atomic
def set_alias(*, actor: Person, version: ModelVersion, name: str) -> ModelAlias:
    """Point ``name`` at ``version``, moving it from any other version of the model."""
    model = version.model
    require_edit(actor, model)
    check_alias(model, version, name)
    existing = ModelAlias.objects.select_for_update().filter(model=model, name=name).first()
    before = existing.version.version if existing else None
    alias, _ = ModelAlias.objects.update_or_create(
        model=model, name=name, defaults={"version": version, "set_by": actor}
    )
    if before != version.version:
        record_event(
            actor=actor,
            verb="model.alias_set",
            target=model,
            before={"alias": name, "version": before},
            after={"alias": name, "version": version.version},
        )
    return alias


@transaction.atomic
def delete_alias(*, actor: Person, model: RegisteredModel, name: str) -> None:
    require_edit(actor, model)
    alias = ModelAlias.objects.select_related("version").filter(model=model, name=name).first()
    if alias is None:
        return
    record_event(
        actor=actor,
        verb="model.alias_deleted",
        target=model,
        before={"alias": name, "version": alias.version.version},
    )
    alias.delete()
