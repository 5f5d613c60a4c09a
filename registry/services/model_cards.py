"""Editing model cards: the rules every section and metadata value must meet.

Heading rule. A line that starts with exactly two ``#`` (``## Title``, ``##Title``, ``##``)
is a level-2 heading and, in a README, always a section boundary, even inside a code
fence. So ``update_card`` refuses a section whose text holds such a line, naming the field
and the line, and suggests ``###``; every other heading level (``#``, ``###`` and deeper)
is allowed inside a section. We refuse rather than rewrite, because demoting headings
would change what the author wrote, and refusing only the *known* titles would let an
unknown ``## X`` through that the importer then rejects. With this rule every card that
``update_card`` accepts exports to a README that imports back to the same card
(``registry.services.card_readme``).

Other choices:

* Section text is normalised on save: ``\\r\\n`` becomes ``\\n``, leading blank lines and
  trailing whitespace go. Export writes the same normalised text, so export → import →
  export gives an identical string.
* Metadata values (license, base model, list items) are single-line labels: line breaks,
  tabs and other control characters are refused, so YAML quoting can't bite on import.
* Sections are rendered to HTML once, here, and stored; pages never render Markdown.
* An update that changes nothing saves nothing and records no audit event.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from portal.concurrency import check_revision, next_revision
from portal.markdown import render_fields
from portal.people import Person
from portal.services.audit import record_event
from portal.text import find_unstorable, unstorable_char
from registry.models import CARD_METADATA_FIELDS, CARD_SECTIONS, ModelCard
from registry.permissions import require_edit
from registry.services.release_hooks import dismiss_release_approvals

MAX_SECTION_CHARS = 50_000
MAX_LIST_ITEMS = 50
MAX_ITEM_CHARS = 200
MAX_LINK_CHARS = 2_000
MAX_STRING_CHARS = {"license": 100, "base_model": 200}
LIST_FIELDS = ("languages", "datasets", "contacts", "links")

SECTION_FIELDS = [field for field, _ in CARD_SECTIONS]
SECTION_TITLES = dict(CARD_SECTIONS)

LEVEL_TWO_HEADING = re.compile(r"^##(?!#)")
_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")
# Metadata values are single-line labels: no line breaks, tabs or other control characters.
_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
ONE_LINE = "a single line without control characters"
_link_validator = URLValidator(schemes=["http", "https"])


def empty_value(field: str) -> Any:
    """The value of a card field with nothing in it: "" or []."""
    return [] if field in LIST_FIELDS else ""


@transaction.atomic
def update_card(
    *,
    actor: Person,
    card: ModelCard,
    sections: dict[str, str] | None = None,
    metadata: dict[str, Any] | None = None,
    expected_revision: int | None = None,
) -> ModelCard:
    """Change some sections and metadata; every problem is reported in one ValidationError.

    Sections are rendered to HTML here, once; pages show the stored HTML. With
    ``expected_revision`` (the revision the editor loaded), a card saved by someone else
    in the meantime raises StaleEdit instead of being overwritten.
    """
    require_edit(actor, card.version.model)
    values, html = _clean_and_render(sections or {}, metadata or {})
    # Compare with the stored row, locked, so concurrent editors don't overwrite blindly.
    locked = ModelCard.objects.select_for_update().get(pk=card.pk)
    check_revision(locked, expected_revision)
    changed = [field for field, value in values.items() if getattr(locked, field) != value]
    for field, value in values.items():
        setattr(card, field, value)
    if not changed:
        return card
    for field in changed:
        setattr(locked, field, values[field])
    locked.html = {**locked.html, **{field: html[field] for field in changed if field in html}}
    locked.updated_by = actor
    revision = next_revision(locked, card)
    locked.save(update_fields=[*changed, "html", "updated_by", "updated_at", *revision])
    card.html, card.updated_by, card.updated_at = locked.html, actor, locked.updated_at
    record_event(actor=actor, verb="card.updated", target=locked, after={"fields": changed})
    dismiss_release_approvals(actor, locked.version, "card")
    return card


def check_card_values(*, sections: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
    """The values ``update_card`` would store, or the ValidationError it would raise.

    Saves nothing; the README import shows what it would change before it replaces the card.
    """
    values, _html = _clean_and_render(sections, metadata)
    return values


def render_section(*, field: str, text: str) -> str:
    """The HTML ``update_card`` would store for one section, or the ValidationError it would raise.

    Saves nothing; the editor's live preview warns with it before a save is refused.
    """
    _values, html = _clean_and_render({field: text}, {})
    return html[field]


def _clean_and_render(
    sections: dict[str, Any], metadata: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Checked values and the HTML of every section; all problems in one ValidationError."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name, value in sections.items():
        if name not in SECTION_TITLES:
            errors.setdefault(name, []).append("Unknown card field.")
        elif problem := _section_problem(value):
            errors.setdefault(name, []).append(problem)
        else:
            values[name] = normalise_section(value)
    for name, value in metadata.items():
        if name not in CARD_METADATA_FIELDS:
            errors.setdefault(name, []).append("Unknown card field.")
        elif problem := _metadata_problem(name, value):
            errors.setdefault(name, []).append(problem)
        else:
            values[name] = list(value) if name in LIST_FIELDS else value
    html: dict[str, str] = {}
    try:
        html = render_fields({name: values[name] for name in sections if name in values})
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return values, html


def normalise_section(text: str) -> str:
    """Section text as stored: ``\\n`` line ends, no leading blank lines or trailing space."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _LEADING_BLANK_LINES.sub("", text).rstrip()


def _section_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return "Must be a string."
    if problem := unstorable_char(value):
        return f"This text {problem}."
    if len(value) > MAX_SECTION_CHARS:
        return f"At most {MAX_SECTION_CHARS:,} characters (this has {len(value):,})."
    lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in enumerate(lines, start=1):
        if LEVEL_TWO_HEADING.match(line):
            return (
                f"Line {number} is a level-2 heading (“##”), which marks a card section; "
                "use “###” or deeper inside a section."
            )
    return None


def _metadata_problem(name: str, value: Any) -> str | None:
    if problem := find_unstorable(value):
        return f"This value {problem}."
    if name in MAX_STRING_CHARS:
        if not isinstance(value, str):
            return "Must be a string."
        limit = MAX_STRING_CHARS[name]
        if len(value) > limit:
            return f"At most {limit} characters."
        return None if _is_one_line(value) else f"Must be {ONE_LINE}."
    if not isinstance(value, list | tuple):
        return "Must be a list of strings."
    if len(value) > MAX_LIST_ITEMS:
        return f"At most {MAX_LIST_ITEMS} items."
    for number, item in enumerate(value, start=1):
        if not isinstance(item, str) or not item.strip():
            return f"Item {number} must be a non-empty string."
        if not _is_one_line(item):
            return f"Item {number} must be {ONE_LINE}."
        if name == "links":
            if problem := _link_problem(item):
                return f"Item {number}: {problem}"
        elif len(item) > MAX_ITEM_CHARS:
            return f"Item {number} has more than {MAX_ITEM_CHARS} characters."
    return None


def _is_one_line(value: str) -> bool:
    return not _CONTROL_CHARACTERS.search(value)


def _link_problem(url: str) -> str | None:
    if len(url) > MAX_LINK_CHARS:
        return f"a link may have at most {MAX_LINK_CHARS} characters."
    try:
        _link_validator(url)
    except ValidationError:
        return "only http:// and https:// URLs are allowed."
    return None


def split_card_values(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(sections, metadata) of a flat mapping of card fields, such as an API body."""
    sections = {field: values[field] for field in SECTION_FIELDS if field in values}
    metadata = {field: values[field] for field in CARD_METADATA_FIELDS if field in values}
    return sections, metadata
