"""Settings of the processes a fault test starts (Celery workers, gunicorn, beat's sweep):
tests.settings, with what the test gives them through the environment.

- HANDOFF_TEST_MEDIA_ROOT: the test's media folder, so every process reads the files the
  test stored (tests.settings gives each process a folder of its own);
- HANDOFF_TEST_QUEUE: the test's broker queue: the tasks the process sends go there, instead
  of running in the process as in tests.settings;
- HANDOFF_TEST_CACHE_URL: a Redis cache, as production has (tests.settings keeps one per
  process).
"""

import os

from tests.settings import *  # noqa: F403

if os.environ.get("HANDOFF_TEST_MEDIA_ROOT"):
    MEDIA_ROOT = os.environ["HANDOFF_TEST_MEDIA_ROOT"]
if os.environ.get("HANDOFF_TEST_QUEUE"):
    CELERY_TASK_DEFAULT_QUEUE = os.environ["HANDOFF_TEST_QUEUE"]
    CELERY_TASK_ALWAYS_EAGER = False
if os.environ.get("HANDOFF_TEST_CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["HANDOFF_TEST_CACHE_URL"],
            "KEY_PREFIX": "handoff",
        }
    }
