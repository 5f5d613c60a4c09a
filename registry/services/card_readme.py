"""Moving model cards in and out of README.md files.

The README format follows Hugging Face model cards: optional YAML front matter between
``---`` lines, then one ``## <Section title>`` heading per non-empty section.

* On import, ``model_name`` and ``model_version`` in the front matter describe the card the
  file came from and are ignored; any other key we don't know is refused, as is text
  under an unknown heading, so an import never drops part of a file silently.
* Sections and metadata absent from the file become empty: after an import the card
  equals the file.
* ``preview_card_import`` says what an import would change, checked as the import checks
  it, without saving; the pages ask for confirmation with it before replacing a card.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.core.files.base import File

from portal.concurrency import check_revision
from portal.people import Person
from registry.models import CARD_METADATA_FIELDS, CARD_SECTIONS, ModelCard
from registry.permissions import require_edit
from registry.services.card_diffs import SectionDiff, card_diff, metadata_diff
from registry.services.front_matter import load_front_matter
from registry.services.model_cards import (
    LEVEL_TWO_HEADING,
    LIST_FIELDS,
    SECTION_FIELDS,
    SECTION_TITLES,
    check_card_values,
    empty_value,
    normalise_section,
    update_card,
)

MAX_README_BYTES = 1_000_000
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


@dataclass(frozen=True)
class ImportChanges:
    """What importing a README would change in a card: only what differs."""

    sections: list[SectionDiff]
    metadata: list[tuple[str, Any, Any]]  # (field, value now, value after the import)

    @property
    def nothing(self) -> bool:
        return not self.sections and not self.metadata


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


def import_card_readme(
    *, actor: Person, card: ModelCard, text: str, expected_revision: int | None = None
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


def preview_card_import(
    *, card: ModelCard, text: str, expected_revision: int | None = None
) -> ImportChanges:
    """What ``import_card_readme`` would change in ``card``; saves nothing.

    Raises what the import would raise: a ValidationError for a README it would refuse,
    StaleEdit when the card is no longer at ``expected_revision``.
    """
    sections, metadata = parse_card_readme(text)
    imported = ModelCard(**check_card_values(sections=sections, metadata=metadata))
    check_revision(card, expected_revision)
    return ImportChanges(
        sections=[diff for diff in card_diff(card, imported) if diff.status != "unchanged"],
        metadata=metadata_diff(card, imported),
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
    metadata = {field: empty_value(field) for field in CARD_METADATA_FIELDS}
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
