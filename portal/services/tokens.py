"""Personal API tokens: shown once, stored as a digest, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal.models import PersonalToken
from portal.people import Person
from portal.roles import Role, has_role
from portal.services.audit import record_event

TOKEN_PREFIX = "hnd_"
LAST_USED_RESOLUTION = timedelta(minutes=1)
# A token can only do what it was created for: reading, unless writing is asked for.
DEFAULT_SCOPE = PersonalToken.Scope.READ
# Roles that change things; a person with none of them (a Viewer) gets read tokens only.
WRITING_ROLES = (Role.DATA_SCIENTIST, Role.ENGINEER, Role.APPROVER)


def can_write(user: Person) -> bool:
    return has_role(user, *WRITING_ROLES)


def scopes_for(user: Person) -> list[tuple[str, str]]:
    """The scopes ``user`` may give a token, as form choices."""
    if can_write(user):
        return list(PersonalToken.Scope.choices)
    return [(PersonalToken.Scope.READ, PersonalToken.Scope.READ.label)]


def digest_of(key: str) -> str:
    # The key carries 256 random bits, so a fast hash is enough; no salt is needed.
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def create_token(
    *, user: Person, name: str, scope: str = DEFAULT_SCOPE
) -> tuple[PersonalToken, str]:
    """Create a token and return it with its key; the key is never retrievable again."""
    if scope == PersonalToken.Scope.WRITE and not can_write(user):
        raise ValidationError(
            {"scope": "You hold only read roles, so a token of yours can only read."}
        )
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = PersonalToken.objects.create(
        user=user,
        name=name.strip() or "API token",
        prefix=key[:12],
        digest=digest_of(key),
        scope=PersonalToken.Scope(scope),
    )
    record_event(
        actor=user, verb="token.created", target=token, after={"name": token.name, "scope": scope}
    )
    return token, key


@transaction.atomic
def revoke_token(*, token: PersonalToken, actor: Person) -> PersonalToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_event(actor=actor, verb="token.revoked", target=token)
    return token


def active_token(key: str) -> PersonalToken | None:
    """The unrevoked token of an active person for ``key``, or None."""
    return (
        PersonalToken.objects.select_related("user")
        .filter(digest=digest_of(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )


def note_use(token: PersonalToken, now: datetime) -> None:
    """Set ``last_used_at`` to ``now`` unless it was set less than a minute ago.

    Writing it on every request would turn every API read into a write (a row version and
    a WAL record each) on the busiest path of the portal.
    """
    due = now - LAST_USED_RESOLUTION
    if token.last_used_at is not None and token.last_used_at > due:
        return
    # The UPDATE repeats the check, so concurrent requests in other workers write it once.
    PersonalToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=due), pk=token.pk
    ).update(last_used_at=now)
    token.last_used_at = now
