"""Settings come from the environment and refuse unsafe production configuration."""

import os
import secrets
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


PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "handoff.example.com",
}


def test_deploy_check_passes_at_warning_level_on_production_settings() -> None:
    """Production defaults leave `check --deploy` nothing to warn about."""
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "WARNINGS" not in result.stderr and "security." not in result.stderr, result.stderr
    assert "System check identified no issues" in result.stdout


def test_hsts_for_subdomains_and_preload_can_be_switched_off() -> None:
    """A domain that cannot commit every subdomain opts out; the check then says so."""
    result = _run(
        ["manage.py", "check", "--deploy"],
        **PRODUCTION,
        DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS="0",
        DJANGO_SECURE_HSTS_PRELOAD="0",
    )

    assert result.returncode == 0, result.stderr
    assert "(security.W005)" in result.stderr and "(security.W021)" in result.stderr


def _security_settings(**env: str) -> str:
    script = (
        "from django.conf import settings as s; print(s.SECURE_HSTS_SECONDS, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, s.SECURE_PROXY_SSL_HEADER)"
    )
    result = _run(["manage.py", "shell", "--no-imports", "-c", script], **PRODUCTION, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_sends_hsts_for_a_year_and_trusts_the_proxys_scheme_header() -> None:
    assert _security_settings() == "31536000 True True ('HTTP_X_FORWARDED_PROTO', 'https')"


def test_hsts_and_the_proxy_header_are_configurable() -> None:
    """Any proxy's scheme header can be named; empty trusts none (no proxy in front)."""
    assert (
        _security_settings(
            DJANGO_SECURE_HSTS_SECONDS="600",
            DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS="0",
            DJANGO_SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_SCHEME",
        )
        == "600 False True ('HTTP_X_FORWARDED_SCHEME', 'https')"
    )
    assert _security_settings(DJANGO_SECURE_PROXY_SSL_HEADER="").endswith(" None")


def test_a_rotated_out_secret_key_still_verifies_what_it_signed() -> None:
    """While rotating, values signed with the old key (sessions among them) stay valid."""
    old = secrets.token_urlsafe(50)
    sign = "from django.core import signing; print(signing.dumps('handoff'))"
    signed = _run(
        ["manage.py", "shell", "--no-imports", "-c", sign],
        **{**PRODUCTION, "DJANGO_SECRET_KEY": old},
    )
    assert signed.returncode == 0, signed.stderr
    token = signed.stdout.strip()
    check = f"from django.core import signing; print(signing.loads({token!r}))"
    rotated = {**PRODUCTION, "DJANGO_SECRET_KEY_FALLBACKS": old}
    assert (
        _run(["manage.py", "shell", "--no-imports", "-c", check], **rotated).stdout.strip()
        == "handoff"
    )
    refused = _run(["manage.py", "shell", "--no-imports", "-c", check], **PRODUCTION)
    assert "BadSignature" in refused.stderr


def test_files_go_to_an_s3_bucket_when_the_setting_says_so() -> None:
    """django-storages' S3Storage with the bucket, endpoint and prefix given; private and
    never overwritten. Building it connects to nothing."""
    script = (
        "from django.core.files.storage import default_storage as d; d._setup(); "
        "w = d._wrapped; print(type(w).__name__, w.bucket_name, w.endpoint_url, w.location, "
        "w.default_acl, w.file_overwrite, w.querystring_auth)"
    )
    result = _run(
        ["manage.py", "shell", "--no-imports", "-c", script],
        **PRODUCTION,
        HANDOFF_STORAGE="s3",
        HANDOFF_S3_BUCKET="handoff-files",
        HANDOFF_S3_ENDPOINT_URL="http://127.0.0.1:9000",
        HANDOFF_S3_PREFIX="prod",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "S3Storage",
        "handoff-files",
        "http://127.0.0.1:9000",
        "prod",
        "None",
        "False",
        "True",
    ]


def test_an_unknown_storage_is_refused_at_start_naming_the_choices() -> None:
    result = _run(["manage.py", "check"], **PRODUCTION, HANDOFF_STORAGE="ftp")

    assert result.returncode != 0
    assert "HANDOFF_STORAGE is 'ftp'; use 'filesystem' (the default) or 's3'." in result.stderr


def test_heavy_tasks_can_have_a_queue_of_their_own() -> None:
    """With HANDOFF_HEAVY_QUEUE, evaluations and drift reports leave the default queue;
    webhooks and beat's sweeps stay on it."""
    script = (
        "from portal.celery import app; r = app.amqp.router; "
        "print(*(r.route({}, n)['queue'].name for n in ("
        "'registry.evaluation.tasks.run_evaluation_task', "
        "'registry.monitoring.tasks.run_drift_report_task', "
        "'portal.webhooks.tasks.deliver_webhook_task', 'portal.tasks.requeue_stale_jobs_task')))"
    )
    args = ["manage.py", "shell", "--no-imports", "-c", script]

    assert _run(args, **PRODUCTION).stdout.split() == ["celery"] * 4
    split = _run(args, **PRODUCTION, HANDOFF_HEAVY_QUEUE="heavy")
    assert split.stdout.split() == ["heavy", "heavy", "celery", "celery"], split.stderr
