"""Triage: turning feedback into backlog work.

An item filed about feedback is linked to each piece and to each prediction it is about, so
the item's page leads back to them and the prediction's page lists the item. Marking feedback
reviewed is ``services.feedback.mark_reviewed``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import UTC

from django.core.exceptions import ValidationError
from django.db import transaction

from feedback.inbox_queries import said
from feedback.models import Feedback, PredictionKey
from feedback.queries import prediction_url
from portal.backlog.choices import Kind
from portal.backlog.models import BacklogItem
from portal.backlog.services.items import create_item
from portal.people import Person

MAX_TRIAGED = 50  # pieces of feedback one action takes: a page of the inbox
TITLE_LENGTH = 200
QUOTED = 280  # characters of each comment quoted in the item's description
# Markdown's own characters, escaped so that what people wrote reads as plain text.
MARKDOWN_CHARS = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~])")


def require_selection(feedback: Sequence[Feedback]) -> None:
    """A ValidationError unless 1 to MAX_TRIAGED pieces were chosen."""
    if not feedback:
        raise ValidationError({"feedback": "Choose the feedback first (tick its boxes)."})
    if len(feedback) > MAX_TRIAGED:
        many = len(feedback)
        raise ValidationError(
            {"feedback": f"At most {MAX_TRIAGED} pieces of feedback at a time, not {many}."}
        )


@transaction.atomic
def file_item(*, actor: Person, feedback: Sequence[Feedback], title: str = "") -> BacklogItem:
    """File a backlog item of kind Feedback in the models' team, about ``feedback`` (with
    its model loaded) and the predictions it is about. The backlog's rules decide who may."""
    require_selection(feedback)
    teams = {f.model.team_id for f in feedback}
    if len(teams) > 1:
        raise ValidationError(
            {"feedback": "Choose feedback on one team's models: an item belongs to one team."}
        )
    keys = PredictionKey.objects.filter(
        pk__in={f.prediction_key_id for f in feedback if f.prediction_key_id is not None}
    ).order_by("pk")
    return create_item(
        actor=actor,
        team=feedback[0].model.team,
        kind=Kind.FEEDBACK,
        title=(title.strip() or default_title(feedback))[:TITLE_LENGTH],
        description=description(feedback),
        links=[*feedback, *keys],
    )


def default_title(feedback: Sequence[Feedback]) -> str:
    models = sorted({f.model.name for f in feedback})
    if len(feedback) == 1:
        only = feedback[0]
        words = f": {only.comment}" if only.comment else ""
        return f"{said(only)} on {models[0]} {only.prediction_id}{words}"
    return f"{len(feedback)} pieces of feedback on {', '.join(models)}"


def description(feedback: Sequence[Feedback]) -> str:
    """The item's Markdown: a line per piece of feedback, linked to its prediction's page,
    its comment quoted; what clients wrote is escaped, so it cannot add links or markup."""
    lines = ["Filed from the feedback inbox.", ""]
    for f in feedback:
        # reverse() leaves parentheses as they are; in a Markdown link they would end it.
        url = prediction_url(f.model.name, f.prediction_id).replace("(", "%28")
        url = url.replace(")", "%29")
        when = f.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        quoted = " / ".join(line.strip() for line in f.comment.splitlines() if line.strip())
        if len(quoted) > QUOTED:
            quoted = quoted[:QUOTED] + "…"
        lines.append(
            f"- **{_plain(said(f))}** on [{_plain(f.prediction_id)}]({url}) of "
            f"{f.model.name}, from {f.get_source_display().lower()}, {when} UTC"
            + (f": “{_plain(quoted)}”" if quoted else "")
        )
    return "\n".join(lines)


def _plain(text: str) -> str:
    return MARKDOWN_CHARS.sub(r"\\\1", html.escape(text, quote=False))
