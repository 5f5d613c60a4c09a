"""The Celery app: settings from Django (CELERY_*), tasks from each app's tasks.py."""

import os

from celery import Celery

from portal import task_context

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("handoff")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Tasks carry the sending request's id; workers and beat log through settings.LOGGING.
task_context.connect()
