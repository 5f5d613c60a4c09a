"""What every bench script that needs Handoff's Django does first: a PostgreSQL database of
its own on the server of DATABASE_URL (created, then dropped whatever happens), and Django
set up against it with production-like settings."""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def own_database(server: str, name: str) -> Iterator[None]:
    import psycopg

    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def url_with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def configure_django(database_url: str, var_dir: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DATABASE_URL": database_url,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-any-deployment-0123456789",
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "HANDOFF_VAR_DIR": var_dir,
            "MEDIA_ROOT": str(Path(var_dir) / "media"),
            "HANDOFF_LOG_LEVEL": "WARNING",
        }
    )
    import django
    from django.test.utils import override_settings

    django.setup()
    # DEBUG is off and nothing was collected: WhiteNoise says so once per process.
    warnings.filterwarnings("ignore", message="No directory at")
    # DEBUG is off, so static URLs would need collectstatic's manifest: plain storage instead.
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    override_settings(STORAGES=storages).enable()
