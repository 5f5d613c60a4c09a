"""Stored files follow their rows: removed only once the deleting transaction commits; rows
that other records keep (a release request, a run's provenance) are not deleted at all."""

from collections import Counter

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import models, transaction


def delete_files_on_commit(names: list[str]) -> None:
    def remove() -> None:
        for name in names:
            default_storage.delete(name)

    transaction.on_commit(remove)


def delete_unless_kept(row: models.Model, refusal: str) -> None:
    """Delete ``row``; when records that must outlive it point at it (PROTECT), refuse with
    ``refusal`` and what keeps it, and delete nothing (the caller's transaction rolls back)."""
    try:
        row.delete()
    except models.ProtectedError as exc:
        kinds = Counter(str(obj._meta.verbose_name) for obj in exc.protected_objects)
        kept = ", ".join(
            f"{count} {name}{'s' if count > 1 else ''}" for name, count in kinds.items()
        )
        raise ValidationError({"detail": f"Kept by {kept}: {refusal}"}) from None
