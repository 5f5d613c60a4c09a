"""Comments on items, with @mentions that notify the people they name, once."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from portal.backlog.models import BacklogItem, Comment
from portal.backlog.permissions import require_comment
from portal.markdown import render_fields
from portal.notifications.services import notify
from portal.people import Person
from portal.services.audit import record_event

# @username, not inside an e-mail address or a word.
MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9_.+-]{1,150})")
MAX_COMMENT = 20_000


def mentioned(body: str) -> list[Person]:
    """The active people ``body`` mentions by username."""
    names = {name.rstrip(".") for name in MENTION.findall(body)}
    if not names:
        return []
    return list(get_user_model().objects.filter(username__in=names, is_active=True))


@transaction.atomic
def add_comment(*, actor: Person | None, item: BacklogItem, body: str) -> Comment:
    """Comment on ``item``; ``actor`` None is Handoff itself (a drift report's update)."""
    if actor is not None:
        require_comment(actor)
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write something first."})
    if len(body) > MAX_COMMENT:
        raise ValidationError({"body": f"A comment has at most {MAX_COMMENT:,} characters."})
    html = render_fields({"body": body})["body"]
    comment = Comment.objects.create(item=item, author=actor, body=body, body_html=html)
    people = mentioned(body)
    comment.mentions.set(people)
    record_event(
        actor=actor,
        verb="item.commented",
        target=item,
        after={"comment": comment.pk, "mentions": sorted(p.username for p in people)},
    )
    name = (actor.get_full_name() or actor.username) if actor is not None else "Handoff"
    notify(
        recipients=people,
        actor=actor,
        kind="mention",
        message=f"{name} mentioned you on #{item.pk} {item.title}",
        url=f"{item.get_absolute_url()}#comment-{comment.pk}",
        cause=f"mention:comment:{comment.pk}",
    )
    return comment
