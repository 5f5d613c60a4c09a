"""Settings come from the environment and refuse unsafe production configuration."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    clean.update(DJANGO_SETTINGS_MODULE="portal.settings", HANDOFF_VAR_DIR="/tmp/handoff-var")
    clean.update(env)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off() -> None:
    """A clear start-up error names the missing variable."""
    result = _run(["manage.py", "check"], DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="x")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_deploy_check_passes_on_production_like_settings() -> None:
    """Only the HSTS warnings the README explains remain."""
    result = _run(
        ["manage.py", "check", "--deploy"],
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="k" * 20 + "production-like-secret-key-with-entropy-9f8e7d",
        DJANGO_ALLOWED_HOSTS="handoff.example.com",
    )
    assert result.returncode == 0, result.stderr
    warnings = {line.split(")")[0] + ")" for line in result.stderr.splitlines() if "W0" in line}
    assert warnings == {"?: (security.W005)", "?: (security.W021)"}, result.stderr
