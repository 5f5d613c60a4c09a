"""API keys for production services and product pages: shown once, stored as a digest,
scoped, revocable. Creating and revoking a key are audit events."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from feedback.models import ApiKey, Scope
from portal.models import Team
from portal.people import Person
from portal.roles import has_role
from portal.services.audit import record_event
from registry.models import RegisteredModel
from registry.permissions import AUTHOR_ROLES

KEY_PREFIX = "hfk_"
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_ORIGINS = 20


def digest_of(key: str) -> str:
    # The key carries 256 random bits, so a fast hash is enough; no salt is needed.
    return hashlib.sha256(key.encode()).hexdigest()


def can_manage(person: Person, team: Team) -> bool:
    """A team's data scientists and engineers manage its keys."""
    if person.is_superuser:
        return True
    return has_role(person, *AUTHOR_ROLES) and team.has_member(person)


@transaction.atomic
def create_key(
    *,
    actor: Person,
    team: Team,
    name: str,
    scopes: Sequence[str],
    model: RegisteredModel | None = None,
    allowed_origins: Iterable[str] = (),
) -> tuple[ApiKey, str]:
    """A key and its secret; the secret is never retrievable again."""
    if not can_manage(actor, team):
        raise PermissionDenied(f"Only data scientists and engineers of {team} manage its keys.")
    if model is not None and model.team_id != team.pk:
        raise ValidationError({"model": f"{model.name} belongs to another team."})
    chosen = list(dict.fromkeys(scopes))
    if not chosen or not set(chosen) <= set(Scope.values):
        raise ValidationError({"scopes": f"Choose one or more of: {', '.join(Scope.values)}."})
    origins = clean_origins(allowed_origins)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        name=name.strip()[:80] or "API key",
        team=team,
        model=model,
        scopes=chosen,
        allowed_origins=origins,
        prefix=secret[:12],
        digest=digest_of(secret),
        created_by=actor,
    )
    record_event(
        actor=actor,
        verb="apikey.created",
        target=key,
        after={
            "name": key.name,
            "model": model.name if model else None,
            "scopes": chosen,
            "allowed_origins": origins,
        },
    )
    return key, secret


@transaction.atomic
def revoke_key(*, actor: Person, key: ApiKey) -> ApiKey:
    if not can_manage(actor, key.team):
        raise PermissionDenied(f"Only data scientists and engineers of {key.team} manage its keys.")
    locked = ApiKey.objects.select_for_update().get(pk=key.pk)
    if locked.revoked_at is None:
        locked.revoked_at, locked.revoked_by = timezone.now(), actor
        locked.save(update_fields=["revoked_at", "revoked_by"])
        record_event(actor=actor, verb="apikey.revoked", target=locked)
    return locked


def clean_origins(origins: Iterable[str]) -> list[str]:
    """Origins as browsers send them (``https://shop.example``, no path), or a ValidationError
    naming the first that is not one. Plain http only for this machine."""
    cleaned: list[str] = []
    for raw in origins:
        text = str(raw).strip().rstrip("/")
        if not text:
            continue
        parts = urlsplit(text)
        local = parts.hostname in ("localhost", "127.0.0.1", "[::1]", "::1")
        if (
            parts.scheme not in ("https", "http")
            or (parts.scheme == "http" and not local)
            or not parts.hostname
            or parts.path
            or parts.query
            or parts.fragment
            or parts.username
        ):
            raise ValidationError(
                {
                    "allowed_origins": f"“{text[:100]}” is not an origin such as "
                    "https://shop.example (http only for localhost)."
                }
            )
        origin = f"{parts.scheme}://{parts.netloc.lower()}"
        if origin not in cleaned:
            cleaned.append(origin)
    if len(cleaned) > MAX_ORIGINS:
        raise ValidationError({"allowed_origins": f"At most {MAX_ORIGINS} origins."})
    return cleaned


def active_key(secret: str) -> ApiKey | None:
    """The unrevoked key for ``secret``, with its model, or None."""
    if not secret.startswith(KEY_PREFIX):
        return None
    # Every API request asks: no ORDER BY (the digest is unique), no team (ids suffice).
    found = ApiKey.objects.select_related("model").filter(
        digest=digest_of(secret), revoked_at__isnull=True
    )
    return next(iter(found.order_by()[:1]), None)


def note_use(key: ApiKey, now: datetime) -> None:
    """Record when a key was last used, at most once a minute (one UPDATE, no read)."""
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    key.last_used_at = now
