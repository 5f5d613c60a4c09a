"""Editing model cards, comparing them, and moving them in and out of README.md files.

The README format follows Hugging Face model cards: optional YAML front matter between
``---`` lines, then one ``## <Section title>`` heading per non-empty section.

Heading rule. A line that starts with exactly two ``#`` (``## Title``, ``##Title``, ``##``)
is a level-2 heading and, in a README, always a section boundary, even inside a code
fence. So ``update_card`` refuses a section whose text holds such a line, naming the field
and the line, and suggests ``###``; every other heading level (``#``, ``###`` and deeper)
is allowed inside a section. We refuse rather than rewrite, because demoting headings
would change what the author wrote, and refusing only the *known* titles would let an
unknown ``## X`` through that the importer then rejects. With this rule every card that
``update_card`` accepts exports to a README that imports back to the same card.

Other choices:

* Section text is normalised on save: ``\\r\\n`` becomes ``\\n``, leading blank lines and
  trailing whitespace go. Export writes the same normalised text, so export → import →
  export gives an identical string.
* Metadata values (license, base model, list items) are single-line labels: line breaks,
  tabs and other control characters are refused, so YAML quoting can't bite on import.
* An update that changes nothing saves nothing and records no audit event.
* On import, ``model_name`` and ``model_version`` in the front matter describe the card the
  file came from and are ignored; any other key we don't know is refused, as is text
  under an unknown heading, so an import never drops part of a file silently.
* Sections and metadata absent from the file become empty: after an import the card
  equals the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import yaml
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.validators import URLValidator
from django.db import transaction

from portal.concurrency import check_revision, next_revision
from portal.markdown import render_fields
from portal.services.audit import record_event
from portal.text import find_unstorable, unstorable_char
from portal.textdiff import line_diff
from registry.models import CARD_METADATA_FIELDS, CARD_SECTIONS, ModelCard
from registry.permissions import require_edit
from registry.services.front_matter import load_front_matter

MAX_SECTION_CHARS = 50_000
MAX_README_BYTES = 1_000_000
MAX_LIST_ITEMS = 50
MAX_ITEM_CHARS = 200
MAX_LINK_CHARS = 2_000
MAX_STRING_CHARS = {"license": 100, "base_model": 200}
LIST_FIELDS = ("languages", "datasets", "contacts", "links")

SECTION_FIELDS = [field for field, _ in CARD_SECTIONS]
SECTION_TITLES = dict(CARD_SECTIONS)
# README front matter key → card field (Hugging Face spells it "language").
README_KEYS = {
    "license": "license",
    "language": "languages",
    "datasets": "datasets",
    "base_model": "base_model",
    "contacts": "contacts",
    "links": "links",
}
IGNORED_README_KEYS = {"model_name", "model_version"}

LEVEL_TWO_HEADING = re.compile(r"^##(?!#)")
_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")
# Metadata values are single-line labels: no line breaks, tabs or other control characters.
_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
ONE_LINE = "a single line without control characters"
_link_validator = URLValidator(schemes=["http", "https"])

DiffStatus = Literal["added", "removed", "changed", "unchanged"]


@dataclass(frozen=True)
class SectionDiff:
    field: str
    title: str
    status: DiffStatus
    lines: list[tuple[str, str]]  # (op, text) with op in "+", "-", " "


# Editing ------------------------------------------------------------------------------


@transaction.atomic
def update_card(
    *,
    actor: Any,
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
    return card


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


# Comparing ----------------------------------------------------------------------------


def card_diff(old: ModelCard | None, new: ModelCard) -> list[SectionDiff]:
    """One entry per section, in CARD_SECTIONS order; ``old=None`` means an empty card."""
    diffs = []
    for field, title in CARD_SECTIONS:
        before = getattr(old, field) if old is not None else ""
        after = getattr(new, field)
        status = _status(before, after)
        lines = [] if status == "unchanged" else line_diff(before, after)
        diffs.append(SectionDiff(field=field, title=title, status=status, lines=lines))
    return diffs


def _status(before: str, after: str) -> DiffStatus:
    if before == after:
        return "unchanged"
    if not before.strip():
        return "added"
    if not after.strip():
        return "removed"
    return "changed"


def metadata_diff(old: ModelCard | None, new: ModelCard) -> list[tuple[str, Any, Any]]:
    """(field, old value, new value) for each metadata field that differs.

    With ``old=None`` the old value is the field's empty value ("" or []).
    """
    changes = []
    for field in CARD_METADATA_FIELDS:
        after = getattr(new, field)
        before = getattr(old, field) if old is not None else _empty(field)
        if before != after:
            changes.append((field, before, after))
    return changes


def _empty(field: str) -> Any:
    return [] if field in LIST_FIELDS else ""


# README export and import -------------------------------------------------------------


def export_card_readme(card: ModelCard) -> str:
    """The card as a Hugging Face style README.md."""
    front: dict[str, Any] = {
        "license": card.license,
        "language": list(card.languages),
        "datasets": list(card.datasets),
        "base_model": card.base_model,
        "model_name": card.version.model.name,
        "model_version": card.version.version,
        "contacts": list(card.contacts),
        "links": list(card.links),
    }
    front = {key: value for key, value in front.items() if value}
    parts = ["---\n", yaml.safe_dump(front, sort_keys=False, allow_unicode=True), "---\n"]
    for _field, title, text in card.sections():
        body = normalise_section(text)
        if body:
            parts.append(f"\n## {title}\n\n{body}\n")
    return "".join(parts)


def parse_card_readme(text: str) -> tuple[dict[str, str], dict[str, Any]]:
    """(sections, metadata) of a README; absent sections and fields come back empty."""
    if (
        len(text) > MAX_README_BYTES
        or len(text.encode("utf-8", "surrogatepass")) > MAX_README_BYTES
    ):
        raise ValidationError({"readme": "A README may be at most 1 MB."})
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    front, body_start = _front_matter(lines)
    metadata = _metadata_from_front_matter(front)
    sections = _sections_from_body(lines, body_start)
    return sections, metadata


def read_readme_upload(upload: File) -> str:
    """The text of an uploaded README.md: UTF-8, at most 1 MB, read no further than the cap."""
    data = upload.read(MAX_README_BYTES + 1)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if len(data) > MAX_README_BYTES:
        raise _readme_error("A README may be at most 1 MB.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _readme_error(f"The README is not UTF-8 text (byte {exc.start}).") from exc


def split_card_values(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(sections, metadata) of a flat mapping of card fields, such as an API body."""
    sections = {field: values[field] for field in SECTION_FIELDS if field in values}
    metadata = {field: values[field] for field in CARD_METADATA_FIELDS if field in values}
    return sections, metadata


def import_card_readme(
    *, actor: Any, card: ModelCard, text: str, expected_revision: int | None = None
) -> ModelCard:
    """Replace the card's sections and metadata with those of a README."""
    require_edit(actor, card.version.model)
    sections, metadata = parse_card_readme(text)
    return update_card(
        actor=actor,
        card=card,
        sections=sections,
        metadata=metadata,
        expected_revision=expected_revision,
    )


def _readme_error(message: str) -> ValidationError:
    return ValidationError({"readme": message})


def _front_matter(lines: list[str]) -> tuple[Any, int]:
    """The loaded front matter (or None) and the index of the first body line."""
    if not lines or lines[0].rstrip() != "---":
        return None, 0
    for end in range(1, len(lines)):
        if lines[end].rstrip() in ("---", "..."):
            break
    else:
        raise _readme_error("The front matter opened at line 1 is never closed with “---”.")
    source = "\n".join(lines[1:end]) + "\n"
    try:
        front = load_front_matter(source)
    except yaml.YAMLError as exc:
        raise _readme_error(_yaml_problem(exc, first_line=2, last_line=end)) from exc
    if front is not None and not isinstance(front, dict):
        raise _readme_error(
            f"The front matter (lines 2 to {end}) must be a mapping of keys to values, "
            "e.g. “license: mit”."
        )
    return front, end + 1


def _yaml_problem(exc: yaml.YAMLError, *, first_line: int, last_line: int) -> str:
    """A message naming the 1-based file line; ``first_line`` is YAML's line 0."""
    if not isinstance(exc, yaml.MarkedYAMLError) or exc.problem_mark is None:
        return f"Invalid YAML front matter: {str(exc)[:200]}"
    line = exc.problem_mark.line + first_line
    problem = exc.problem or "unreadable YAML"
    # An error found at the end of the stream (an unclosed bracket or quote) is best
    # reported where the unclosed thing began.
    if line > last_line and exc.context_mark is not None:
        line = exc.context_mark.line + first_line
        problem = f"{exc.context}, {problem}" if exc.context else problem
    return f"Invalid YAML front matter at line {line}: {problem[:200]}"


def _metadata_from_front_matter(front: dict[Any, Any] | None) -> dict[str, Any]:
    metadata = {field: _empty(field) for field in CARD_METADATA_FIELDS}
    allowed = README_KEYS.keys() | IGNORED_README_KEYS
    unknown = [str(key) for key in (front or {}) if key not in allowed]
    if unknown:
        known = ", ".join([*README_KEYS, *sorted(IGNORED_README_KEYS)])
        raise _readme_error(f"Unknown front matter key “{unknown[0][:100]}”; known keys: {known}.")
    for key, field in README_KEYS.items():
        value = (front or {}).get(key)
        if value is None:
            continue
        if field in LIST_FIELDS and isinstance(value, str):
            value = [value]  # "language: en" is as common as "language: [en]"
        metadata[field] = value
    return metadata


def _section_for_heading(heading: str) -> str | None:
    wanted = " ".join(heading.split()).casefold()
    for field, title in CARD_SECTIONS:
        if wanted in (field.casefold(), title.casefold()):
            return field
    return None


def _sections_from_body(lines: list[str], start: int) -> dict[str, str]:
    found: dict[str, list[str]] = {}
    heading_line: dict[str, int] = {}
    preamble: list[str] = []
    current = preamble
    for index in range(start, len(lines)):
        line = lines[index]
        if not LEVEL_TWO_HEADING.match(line):
            current.append(line)
            continue
        heading = line[2:].strip().rstrip("#").strip()
        field = _section_for_heading(heading)
        if field is None:
            known = ", ".join(SECTION_TITLES.values())
            raise _readme_error(
                f"Unknown section “{heading[:100]}” at line {index + 1}; known sections: {known}."
            )
        if field in found:
            raise _readme_error(
                f"Section “{SECTION_TITLES[field]}” appears twice, "
                f"at lines {heading_line[field]} and {index + 1}."
            )
        heading_line[field] = index + 1
        current = found[field] = []
    preamble_text = normalise_section("\n".join(preamble))
    if preamble_text:
        if "model_details" in found:
            first = next(n for n in range(start, len(lines)) if lines[n].strip()) + 1
            raise _readme_error(
                f"Text at line {first} comes before the first section; put it under a "
                "known “## ” heading."
            )
        found["model_details"] = preamble
    return {field: normalise_section("\n".join(found.get(field, []))) for field in SECTION_FIELDS}
