"""Handoff settings: one file, every value from the environment with a safe local default."""

import ipaddress
import os
from pathlib import Path
from typing import Any

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HANDOFF_VAR_DIR", BASE_DIR / "var"))


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off "
            "(use `make demo` for a local portal with DEBUG on)."
        )
    SECRET_KEY = "insecure-local-development-key-do-not-use-in-production"
# Keys being rotated out: sessions and signatures made with them stay valid (docs/runbook.md).
SECRET_KEY_FALLBACKS = envlist("DJANGO_SECRET_KEY_FALLBACKS")

ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off.")
CSRF_TRUSTED_ORIGINS = envlist("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "portal",
    "portal.notifications",
    "portal.webhooks",
    "portal.backlog",
    "registry",
    "registry.experiments",
    "registry.evaluation",
    "registry.monitoring",
    "registry.releases",
    "registry.mlflow_api",
    "feedback",
]

MIDDLEWARE = [
    "portal.metrics.middleware.RequestMetricsMiddleware",
    "portal.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF: its process_view must refuse a body before CSRF parses request.POST.
    "portal.request_limits.RequestLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.roles",
                "portal.context_processors.notifications",
            ],
        },
    },
]

if not os.environ.get("DATABASE_URL"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # the embedded SQLite default lives in var/
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'handoff.sqlite3'}"),
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# API throttles and failed sign-in counts live in the "default" cache, so every process must
# see the same one: Redis when REDIS_URL is set (required for more than one host). Without
# it, gunicorn's workers share a directory under VAR_DIR; only DEBUG's single runserver
# process may keep them in its own memory (per-worker memory would multiply every limit by
# the number of workers).
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES: dict[str, dict[str, object]]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "handoff",
        }
    }
elif DEBUG:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 1000},
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Failed logins per (address, username) inside the window before the form refuses to try.
LOGIN_FAILURE_LIMIT = envint("HANDOFF_LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW = envint("HANDOFF_LOGIN_FAILURE_WINDOW", 900)
# The WSGI META key holding the client address set by the proxy, e.g. HTTP_X_FORWARDED_FOR.
HANDOFF_CLIENT_IP_HEADER = os.environ.get("HANDOFF_CLIENT_IP_HEADER", "")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files (artifacts, datasets, MLflow artifacts): MEDIA_ROOT on a disk every host
# mounts, or with HANDOFF_STORAGE=s3 a bucket of any S3-compatible store. Credentials come
# from boto3's usual sources (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile, a role).
HANDOFF_STORAGE = os.environ.get("HANDOFF_STORAGE", "filesystem")
FILE_STORAGE: dict[str, Any]
if HANDOFF_STORAGE == "s3":
    FILE_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["HANDOFF_S3_BUCKET"],
            "endpoint_url": os.environ.get("HANDOFF_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("HANDOFF_S3_REGION") or None,
            "location": os.environ.get("HANDOFF_S3_PREFIX", ""),
            # Private objects, reached only through the portal's views; never overwritten.
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
elif HANDOFF_STORAGE == "filesystem":
    FILE_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
else:
    raise ImproperlyConfigured(
        f"HANDOFF_STORAGE is {HANDOFF_STORAGE!r}; use 'filesystem' (the default) or 's3'."
    )
STORAGES = {
    "default": FILE_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"

# Request caps (portal.request_limits answers 413/400 naming them). The body cap covers JSON,
# form-encoded bodies and multipart text fields. Django has no cap of its own for file data:
# portal.uploads enforces HANDOFF_MAX_UPLOAD_BYTES while streaming.
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("HANDOFF_MAX_REQUEST_BODY_BYTES", 5 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = envint("HANDOFF_MAX_REQUEST_FIELDS", 1000)
FILE_UPLOAD_MAX_MEMORY_SIZE = envint("HANDOFF_FILE_UPLOAD_MEMORY_BYTES", 2 * 1024 * 1024)
HANDOFF_MAX_UPLOAD_BYTES = envint("HANDOFF_MAX_UPLOAD_BYTES", 200 * 1024 * 1024)
FILE_UPLOAD_HANDLERS = [
    "portal.uploads.SizeCappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Security headers. TLS terminates at the proxy in front of gunicorn, which names the original
# scheme in this header (META key); empty trusts no header (gunicorn serving TLS itself).
_proxy_ssl_header = os.environ.get(
    "DJANGO_SECURE_PROXY_SSL_HEADER", "" if DEBUG else "HTTP_X_FORWARDED_PROTO"
).strip()
SECURE_PROXY_SSL_HEADER = (_proxy_ssl_header, "https") if _proxy_ssl_header else None
SECURE_SSL_REDIRECT = envbool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# Database sessions that refuse cookie values Django never issued (portal/sessions.py).
SESSION_ENGINE = "portal.sessions"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
# A year, with subdomains and preload: what `check --deploy` asks for. A domain whose
# subdomains are not all HTTPS-only switches the last two off (README, Configuration).
SECURE_HSTS_SECONDS = envint("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = envbool("DJANGO_SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.api.authentication.PersonalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "portal.api.permissions.TokenScopePermission",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "portal.api.parsers.CappedJSONParser",
        "portal.api.parsers.CappedFormParser",
        "portal.api.parsers.CheckedMultiPartParser",
    ],
    # One error shape: errors that belong to no field sit under "detail".
    "NON_FIELD_ERRORS_KEY": "detail",
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.PortalPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api.errors.exception_handler",
    # Counted in the "default" cache (see CACHES): one count per person across all workers.
    "DEFAULT_THROTTLE_RATES": {
        "user": "600/min",
        # Production services log in batches; the budget counts requests, not records.
        "apikey": os.environ.get("HANDOFF_API_KEY_RATE", "6000/min"),
        # The MLflow API (registry.mlflow_api): training loops log many small batches.
        "mlflow": os.environ.get("HANDOFF_MLFLOW_RATE", "6000/min"),
    },
    "DEFAULT_THROTTLE_CLASSES": ["portal.api.throttling.PersonRateThrottle"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Handoff API",
    "DESCRIPTION": (
        "Model registry, model cards, experiments, feedback and release approvals. "
        "Authenticate with a personal token (`Authorization: Token <key>`) or a session."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "VersionStatusEnum": "registry.choices.VersionStatus",
        "ArtifactStatusEnum": "registry.choices.ArtifactStatus",
        "FeedbackKindEnum": "feedback.models.FeedbackKind",
    },
}

# Celery: without a broker URL, tasks run eagerly in-process (the embedded default).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SOFT_TIME_LIMIT = envint("HANDOFF_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = envint("HANDOFF_TASK_TIME_LIMIT", 360)
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Evaluations, drift reports, profiling and artifact validation can go to a queue of their
# own (HANDOFF_HEAVY_QUEUE=heavy) that workers on other hosts serve, so ingestion-side tasks
# (webhooks, retention, partitions, beat's sweeps) never wait behind an hour of evaluation.
HANDOFF_HEAVY_QUEUE = os.environ.get("HANDOFF_HEAVY_QUEUE", "")
HEAVY_TASKS = (
    "registry.evaluation.tasks.run_evaluation_task",
    "registry.evaluation.tasks.profile_dataset_task",
    "registry.monitoring.tasks.run_drift_report_task",
    "registry.tasks.validate_artifact_task",
)
CELERY_TASK_ROUTES = (
    {name: {"queue": HANDOFF_HEAVY_QUEUE} for name in HEAVY_TASKS} if HANDOFF_HEAVY_QUEUE else {}
)
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "portal.tasks.record_worker_heartbeat_task", "schedule": 60.0},
    "requeue-stale-jobs": {"task": "portal.tasks.requeue_stale_jobs_task", "schedule": 60.0},
    "sweep-orphan-artifact-files": {
        "task": "registry.tasks.sweep_orphan_artifact_files_task",
        "schedule": 3600.0,
    },
    # Nightly, off-peak: retention deletes in batches; partitions are made months ahead.
    "apply-prediction-retention": {
        "task": "feedback.tasks.start_retention_task",
        "schedule": crontab(hour=3, minute=15),
    },
    "make-prediction-partitions": {
        "task": "feedback.tasks.make_prediction_partitions_task",
        "schedule": crontab(hour=2, minute=45),
    },
    # Every few minutes: a report is due once per hour or day of its config, and the
    # window key makes a second tick in the same period find the report already there.
    "schedule-drift-reports": {
        "task": "registry.monitoring.tasks.schedule_drift_reports_task",
        "schedule": 300.0,
    },
}

# Jobs (portal/jobs.py). A running task renews its lease at every progress report, so the
# lease must outlast the longest step; beat re-enqueues a job whose lease ran out.
HANDOFF_JOB_LEASE_SECONDS = envint("HANDOFF_JOB_LEASE_SECONDS", 600)
HANDOFF_JOB_MAX_ATTEMPTS = envint("HANDOFF_JOB_MAX_ATTEMPTS", 3)
# Fault tests only: a pause after each progress report, so a worker can be killed mid-job.
HANDOFF_JOB_STEP_DELAY_MS = envint("HANDOFF_JOB_STEP_DELAY_MS", 0)

# Prediction logs, their identities and the personal data of feedback (comments, end-user
# ids) are removed once older than this many days (feedback.services.retention, nightly).
HANDOFF_PREDICTION_RETENTION_DAYS = envint("HANDOFF_PREDICTION_RETENTION_DAYS", 365)
if HANDOFF_PREDICTION_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("HANDOFF_PREDICTION_RETENTION_DAYS must be 1 or more.")

# Every line names its request ("-" when none) and, in JSON, its Celery task; workers and beat
# log through this too (portal/log_format.py, portal/task_context.py). json: one object a line.
HANDOFF_LOG_FORMAT = os.environ.get("HANDOFF_LOG_FORMAT", "plain").strip().lower() or "plain"
if HANDOFF_LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(
        f"HANDOFF_LOG_FORMAT must be plain or json, got {HANDOFF_LOG_FORMAT!r}"
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "portal.log_format.RequestContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "portal.log_format.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": HANDOFF_LOG_FORMAT,
            "filters": ["request_context"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("HANDOFF_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Model cards: the sections a card must fill to count as complete.
HANDOFF_CARD_REQUIRED_SECTIONS = envlist(
    "HANDOFF_CARD_REQUIRED_SECTIONS",
    "model_details,intended_use,out_of_scope_use,metrics,evaluation_data,training_data,"
    "ethical_considerations,caveats_and_recommendations",
)

# Markdown is rendered once, on save, in a child process killed after this many seconds.
HANDOFF_MARKDOWN_RENDER_SECONDS = envint("HANDOFF_MARKDOWN_RENDER_SECONDS", 2)

# Drift reports (registry.monitoring): a window of at most this many rows is compared whole
# (exact mode); a larger one is streamed against the stored reference summary, in memory
# that does not grow with its rows.
HANDOFF_DRIFT_EXACT_ROWS = envint("HANDOFF_DRIFT_EXACT_ROWS", 2_000_000)

# Outbound webhooks (portal.webhooks). Deliveries are signed with this secret (HMAC-SHA256
# of the body); addresses on private, loopback and link-local networks are refused unless
# allowed, so a webhook URL cannot reach the services behind the portal.
HANDOFF_WEBHOOK_SECRET = os.environ.get("HANDOFF_WEBHOOK_SECRET", "")
HANDOFF_WEBHOOK_TIMEOUT_SECONDS = envint("HANDOFF_WEBHOOK_TIMEOUT_SECONDS", 5)
HANDOFF_WEBHOOK_ALLOW_PRIVATE = envbool("HANDOFF_WEBHOOK_ALLOW_PRIVATE", False)

# Email (release approvals): printed to the console unless an SMTP host is set.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = envint("EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "handoff@localhost")
# The portal's address as people reach it, for links in emails and webhook payloads.
HANDOFF_BASE_URL = os.environ.get("HANDOFF_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# Prometheus metrics at /metrics (portal.metrics): for a scraper sending
# "Authorization: Bearer <HANDOFF_METRICS_TOKEN>", or from these networks; anyone else gets 404.
HANDOFF_METRICS_TOKEN = os.environ.get("HANDOFF_METRICS_TOKEN", "")
HANDOFF_METRICS_NETWORKS = [
    ipaddress.ip_network(network)
    for network in envlist("HANDOFF_METRICS_NETWORKS", "127.0.0.0/8,::1/128")
]
