"""Load the realistic demo data. Idempotent: running it twice changes nothing."""

from typing import Any

from django.core.management.base import BaseCommand
from django.test.utils import override_settings

from portal.demo import seed


class Command(BaseCommand):
    help = "Create demo people for every role, their teams and the demo content; print the logins."

    def handle(self, *args: Any, **options: Any) -> None:
        # The demo's release requests email their approvers; seeding keeps that off the console.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            logins = seed()
        self.stdout.write(
            self.style.SUCCESS("Demo data ready. Sign in at http://127.0.0.1:8000 as:")
        )
        for username, password, roles in logins:
            self.stdout.write(f"  {username:<8} / {password:<16} {roles}")
