"""Copy plotly.js from the installed plotly package into static/vendor/ (never a CDN)."""

import shutil
from importlib import resources
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Copy plotly.min.js from the plotly Python package into static/vendor/."

    def handle(self, *args: Any, **options: Any) -> None:
        source = resources.files("plotly") / "package_data" / "plotly.min.js"
        target = Path(settings.BASE_DIR) / "static" / "vendor" / "plotly.min.js"
        target.parent.mkdir(parents=True, exist_ok=True)
        with resources.as_file(source) as path:
            if target.exists() and target.stat().st_size == path.stat().st_size:
                self.stdout.write(f"{target} is up to date")
                return
            shutil.copyfile(path, target)
        self.stdout.write(self.style.SUCCESS(f"copied plotly.js to {target}"))
