"""Copy vendored scripts from installed Python packages into static/vendor/ (never a CDN)."""

import shutil
from importlib import resources
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

# (package, file inside it, name under static/vendor/, needed by)
ASSETS = [
    ("plotly", "package_data/plotly.min.js", "plotly.min.js", "the charts"),
    # axe-core, for the accessibility check of the browser tests (a dev dependency).
    ("axe_playwright_python", "axe.min.js", "axe.min.js", "the browser tests"),
]


class Command(BaseCommand):
    help = "Copy plotly.min.js (and axe.min.js with the dev extras) into static/vendor/."

    def handle(self, *args: Any, **options: Any) -> None:
        for package, inner, name, needed_by in ASSETS:
            if find_spec(package) is None:
                self.stdout.write(f"{package} is not installed: {name} (for {needed_by}) skipped")
                continue
            self._copy(resources.files(package).joinpath(inner), name)

    def _copy(self, source: Any, name: str) -> None:
        target = Path(settings.BASE_DIR) / "static" / "vendor" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with resources.as_file(source) as path:
            if target.exists() and target.stat().st_size == path.stat().st_size:
                self.stdout.write(f"{target} is up to date")
                return
            shutil.copyfile(path, target)
        self.stdout.write(self.style.SUCCESS(f"copied {name} to {target}"))
