"""Stored files follow their rows: removed only once the deleting transaction commits."""

from django.core.files.storage import default_storage
from django.db import transaction


def delete_files_on_commit(names: list[str]) -> None:
    def remove() -> None:
        for name in names:
            default_storage.delete(name)

    transaction.on_commit(remove)
