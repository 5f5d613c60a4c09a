"""Stored files on this machine's disk, whatever the storage behind them.

onnxruntime and pyarrow read a path. The filesystem storage has one; an object store (S3
through django-storages) has none, so the file is streamed into a temporary copy that lives
as long as the work reading it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db.models.fields.files import FieldFile

CHUNK_BYTES = 1024 * 1024


def path_of(storage: Storage, name: str) -> str | None:
    """The file's path on this machine, or None when the storage keeps it elsewhere."""
    try:
        return str(storage.path(name))
    except NotImplementedError:  # a remote storage: no path of its own
        return None


@contextmanager
def local_path(stored: FieldFile) -> Iterator[str]:
    """A path to ``stored``'s bytes, valid inside the ``with`` block."""
    name = stored.name or ""
    path = path_of(stored.storage, name)
    if path is not None:
        yield path
        return
    # The suffix tells the readers the format (.parquet, .csv, .onnx) as the name did.
    with tempfile.NamedTemporaryFile(prefix="handoff-", suffix=Path(name).suffix) as copy:
        with stored.storage.open(name, "rb") as source:
            shutil.copyfileobj(source, copy, CHUNK_BYTES)
        copy.flush()
        yield copy.name


def move(storage: Storage, name: str, wanted: str) -> str:
    """Move stored file ``name`` to ``wanted`` (or a free name like it); returns the new name.

    On disk the new name is claimed first (created exclusively), then the file renamed onto
    it: two uploads of the same bytes get two files, never one they would both delete. An
    object store has no rename, so the object is copied and the original deleted.
    """
    source = path_of(storage, name)
    if source is None:
        with storage.open(name, "rb") as content:
            moved = storage.save(wanted, content)
        storage.delete(name)
        return moved
    moved = storage.save(wanted, ContentFile(b""))
    try:
        os.replace(source, storage.path(moved))
    except BaseException:
        storage.delete(moved)
        raise
    return moved
