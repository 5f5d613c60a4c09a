"""A storage like S3's for tests: objects kept in memory, and no local path to them."""

from __future__ import annotations

import os

from django.core.files.storage import InMemoryStorage
from django.utils._os import safe_join


class ObjectStore(InMemoryStorage):
    """InMemoryStorage without the path it lends its files (S3Storage has none to lend)."""

    def path(self, name: str) -> str:
        raise NotImplementedError("This backend doesn't support absolute paths.")

    def _relative_path(self, name: str) -> str:
        # InMemoryStorage resolves names through path(); the same resolution, kept inside.
        return os.path.relpath(safe_join(self.location, name), self.location)
