"""Model cards: editing, permissions, validation, diffs, README export/import and safe rendering."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.models import AuditEvent
from portal.services.audit import events_for
from registry.models import CARD_SECTIONS, ModelCard
from registry.services.card_diffs import card_diff, metadata_diff
from registry.services.card_readme import (
    export_card_readme,
    import_card_readme,
    parse_card_readme,
    read_readme_upload,
)
from registry.services.model_cards import MAX_SECTION_CHARS, update_card
from registry.services.models import create_model
from registry.services.versions import create_version

SECTION_FIELDS = [field for field, _ in CARD_SECTIONS]

FULL_SECTIONS = {
    "model_details": "Gradient boosted trees.\n\n### Inputs\n\n- tenure\n- plan",
    "intended_use": "Rank customers by churn risk for the retention team.",
    "out_of_scope_use": "Credit decisions.",
    "metrics": "| metric | value |\n|---|---|\n| AUC | 0.87 |",
    "evaluation_data": "Hold-out month of 2024-05.",
    "training_data": "Customers 2022 to 2024, ünïcode included.",
    "ethical_considerations": "# Fairness\n\nChecked across regions.",
    "caveats_and_recommendations": "Retrain monthly.\n\n```python\n# a comment\nx = 1\n```",
}
FULL_METADATA = {
    "license": "no",  # YAML 1.1 would read a bare `no` as False: it must stay a string
    "languages": ["en", "no"],
    "datasets": ["crm/customers: 2024", "churn-labels"],
    "base_model": "xgboost",
    "contacts": ["Alice <alice@example.com>", "Risk team"],
    "links": ["https://wiki.example.com/churn", "http://example.com/a?b=c#d"],
}


@pytest.fixture
def churn(alice: Any, risk_team: Any) -> Any:
    return create_model(actor=alice, name="churn", title="Churn", team=risk_team)


@pytest.fixture
def card(alice: Any, churn: Any) -> ModelCard:
    return create_version(actor=alice, model=churn, version="1.0.0").card


@pytest.fixture
def empty_card(alice: Any, risk_team: Any) -> ModelCard:
    other = create_model(actor=alice, name="fraud", title="Fraud", team=risk_team)
    return create_version(actor=alice, model=other, version="2.0.0").card


def _errors(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


# Editing and permissions --------------------------------------------------------------


def test_a_teammate_can_update_sections_and_metadata(bob: Any, card: ModelCard) -> None:
    """Bob, in the owning team, edits the card; the change is stored with him as editor."""
    update_card(
        actor=bob,
        card=card,
        sections={"intended_use": "Retention."},
        metadata={"license": "mit", "languages": ["en"]},
    )
    stored = ModelCard.objects.get(pk=card.pk)
    assert (stored.intended_use, stored.license, stored.languages) == ("Retention.", "mit", ["en"])
    assert stored.updated_by == bob
    assert card.intended_use == "Retention."


def test_it_records_an_audit_event_naming_the_changed_fields(alice: Any, card: ModelCard) -> None:
    """One card.updated event lists exactly the fields that changed."""
    update_card(
        actor=alice,
        card=card,
        sections={"metrics": "AUC 0.9", "factors": ""},
        metadata={"license": "mit"},
    )
    event = events_for(card).get(verb="card.updated")
    assert event.actor == alice
    assert event.after == {"fields": ["metrics", "license"]}


def test_an_update_that_changes_nothing_records_nothing(alice: Any, card: ModelCard) -> None:
    """Submitting the stored values again writes no audit event."""
    update_card(actor=alice, card=card, sections={"metrics": "AUC"})
    count = AuditEvent.objects.count()
    update_card(actor=alice, card=card, sections={"metrics": "AUC\n\n"})
    assert AuditEvent.objects.count() == count


def test_it_saves_only_the_changed_fields(alice: Any, card: ModelCard) -> None:
    """A stale copy of the card does not overwrite fields it did not change."""
    stale = ModelCard.objects.get(pk=card.pk)
    update_card(actor=alice, card=card, sections={"metrics": "AUC"})
    update_card(actor=alice, card=stale, sections={"factors": "Region"})
    stored = ModelCard.objects.get(pk=card.pk)
    assert (stored.metrics, stored.factors) == ("AUC", "Region")


@pytest.mark.parametrize("persona", ["charlie", "victor"])
def test_outsiders_and_viewers_cannot_edit_a_card(
    persona: str, card: ModelCard, request: pytest.FixtureRequest
) -> None:
    """Charlie (another team) and Victor (viewer) get PermissionDenied; nothing changes."""
    user = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        update_card(actor=user, card=card, sections={"metrics": "hijacked"})
    with pytest.raises(PermissionDenied):
        import_card_readme(actor=user, card=card, text="## Metrics\n\nhijacked\n")
    assert ModelCard.objects.get(pk=card.pk).metrics == ""
    assert not events_for(card).filter(verb="card.updated").exists()


# Validation ---------------------------------------------------------------------------


def test_it_refuses_unknown_fields(alice: Any, card: ModelCard) -> None:
    """Unknown keys, and metadata passed as a section, are named as unknown card fields."""
    with pytest.raises(ValidationError) as exc:
        update_card(
            actor=alice, card=card, sections={"summary": "x", "license": "mit"}, metadata={"x": 1}
        )
    assert _errors(exc) == {
        "summary": ["Unknown card field."],
        "license": ["Unknown card field."],
        "x": ["Unknown card field."],
    }


def test_it_refuses_a_section_over_the_limit_naming_field_and_limit(
    alice: Any, card: ModelCard
) -> None:
    """A section of more than 50,000 characters is refused with the limit in the message."""
    with pytest.raises(ValidationError) as exc:
        update_card(actor=alice, card=card, sections={"metrics": "x" * (MAX_SECTION_CHARS + 1)})
    assert "50,000" in _errors(exc)["metrics"][0]
    update_card(actor=alice, card=card, sections={"metrics": "x" * MAX_SECTION_CHARS})


def test_it_collects_every_metadata_error_in_one_validation_error(
    alice: Any, card: ModelCard
) -> None:
    """Each bad field is named, all at once, and nothing is saved."""
    with pytest.raises(ValidationError) as exc:
        update_card(
            actor=alice,
            card=card,
            sections={"metrics": 42},  # type: ignore[dict-item]
            metadata={
                "license": "l" * 101,
                "base_model": "b" * 201,
                "languages": ["en", ""],
                "datasets": [f"d{n}" for n in range(51)],
                "contacts": "alice@example.com",
                "links": ["https://ok.example.com", "ftp://files.example.com"],
            },
        )
    errors = _errors(exc)
    assert set(errors) == {
        "metrics",
        "license",
        "base_model",
        "languages",
        "datasets",
        "contacts",
        "links",
    }
    assert "100" in errors["license"][0] and "200" in errors["base_model"][0]
    assert "Item 2" in errors["languages"][0] and "50" in errors["datasets"][0]
    assert "Item 2" in errors["links"][0]
    assert ModelCard.objects.get(pk=card.pk).license == ""


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "not a url",
        "//example.com/no-scheme",
    ],
)
def test_it_refuses_links_that_are_not_http_urls(alice: Any, card: ModelCard, link: str) -> None:
    """javascript:, data: and other non-http(s) links are refused naming `links`."""
    with pytest.raises(ValidationError) as exc:
        update_card(actor=alice, card=card, metadata={"links": [link]})
    assert list(_errors(exc)) == ["links"]


@pytest.mark.parametrize("value", ["a\nb", "a\tb", "a\x85b", "a\u2028b", "nul\x00"])
def test_metadata_values_must_be_single_lines(alice: Any, card: ModelCard, value: str) -> None:
    """Line breaks and control characters in metadata are refused naming the field."""
    with pytest.raises(ValidationError) as exc:
        update_card(actor=alice, card=card, metadata={"license": value, "contacts": [value]})
    assert set(_errors(exc)) == {"license", "contacts"}


def test_it_refuses_a_level_two_heading_inside_a_section(alice: Any, card: ModelCard) -> None:
    """`## ` lines mark README sections, so a section may not contain one (the heading rule)."""
    for text in ("Intro\n\n## Details\n\nMore", "##Details", "```\n## a comment\n```"):
        with pytest.raises(ValidationError) as exc:
            update_card(actor=alice, card=card, sections={"metrics": text})
        assert "level-2 heading" in _errors(exc)["metrics"][0]


def test_other_heading_levels_are_allowed_inside_a_section(alice: Any, card: ModelCard) -> None:
    """`#`, `###` and an indented `##` do not mark sections and are accepted."""
    text = "# Top\n\n### Sub\n\n#### Deeper\n\n    ## indented code"
    update_card(actor=alice, card=card, sections={"metrics": text})
    assert ModelCard.objects.get(pk=card.pk).metrics == text


def test_section_text_is_normalised_on_save(alice: Any, card: ModelCard) -> None:
    """CRLF becomes LF; leading blank lines and trailing whitespace are dropped."""
    update_card(actor=alice, card=card, sections={"metrics": "\r\n  \r\n  AUC\r\n0.9  \r\n\r\n"})
    assert ModelCard.objects.get(pk=card.pk).metrics == "  AUC\n0.9"


# Completeness -------------------------------------------------------------------------


def test_completeness_counts_the_required_sections(
    alice: Any, card: ModelCard, settings: Any
) -> None:
    """Completeness and missing_sections follow HANDOFF_CARD_REQUIRED_SECTIONS."""
    settings.HANDOFF_CARD_REQUIRED_SECTIONS = ["model_details", "intended_use"]
    assert (card.completeness, card.missing_sections()) == (0, ["model_details", "intended_use"])
    update_card(actor=alice, card=card, sections={"model_details": "Trees.", "metrics": "AUC"})
    assert (card.completeness, card.missing_sections()) == (50, ["intended_use"])
    update_card(actor=alice, card=card, sections={"intended_use": "Retention."})
    assert (card.completeness, card.missing_sections()) == (100, [])


def test_a_card_with_no_required_sections_is_complete(card: ModelCard, settings: Any) -> None:
    """An empty requirement list makes every card 100 % complete."""
    settings.HANDOFF_CARD_REQUIRED_SECTIONS = []
    assert (card.completeness, card.missing_sections()) == (100, [])


# Copy-forward and diffs ---------------------------------------------------------------


def test_the_card_is_copied_forward_and_the_diff_shows_the_changed_section(
    alice: Any, churn: Any, card: ModelCard
) -> None:
    """Version 1.1.0 starts with 1.0.0's card; card_diff marks the edited lines."""
    # given
    update_card(actor=alice, card=card, sections=FULL_SECTIONS, metadata=FULL_METADATA)
    # when
    new = create_version(actor=alice, model=churn, version="1.1.0").card
    assert new.sections() == ModelCard.objects.get(pk=card.pk).sections()
    assert new.metadata() == FULL_METADATA
    update_card(
        actor=alice,
        card=new,
        sections={"metrics": FULL_SECTIONS["metrics"].replace("0.87", "0.91")},
        metadata={"license": "mit"},
    )
    # then
    diffs = card_diff(card, new)
    assert [d.field for d in diffs] == SECTION_FIELDS
    by_field = {d.field: d for d in diffs}
    assert by_field["metrics"].status == "changed"
    assert ("-", "| AUC | 0.87 |") in by_field["metrics"].lines
    assert ("+", "| AUC | 0.91 |") in by_field["metrics"].lines
    assert (" ", "| metric | value |") in by_field["metrics"].lines
    assert {d.status for d in diffs if d.field != "metrics"} == {"unchanged"}
    assert metadata_diff(card, new) == [("license", "no", "mit")]


def test_a_diff_against_no_card_marks_every_filled_section_added(
    alice: Any, card: ModelCard
) -> None:
    """With old=None, non-empty sections are added and empty ones unchanged."""
    update_card(actor=alice, card=card, sections={"metrics": "a\nb"}, metadata={"license": "mit"})
    by_field = {d.field: d for d in card_diff(None, card)}
    assert by_field["metrics"].status == "added"
    assert by_field["metrics"].lines == [("+", "a"), ("+", "b")]
    assert by_field["factors"].status == "unchanged"
    assert metadata_diff(None, card) == [("license", "", "mit")]


def test_an_emptied_section_is_marked_removed(alice: Any, churn: Any, card: ModelCard) -> None:
    """A section cleared in the new version shows its old lines as removed."""
    update_card(actor=alice, card=card, sections={"factors": "Region\nAge"})
    new = create_version(actor=alice, model=churn, version="1.1.0").card
    update_card(actor=alice, card=new, sections={"factors": ""})
    factors = next(d for d in card_diff(card, new) if d.field == "factors")
    assert (factors.status, factors.lines) == ("removed", [("-", "Region"), ("-", "Age")])


# README export ------------------------------------------------------------------------


def test_the_export_is_a_hugging_face_readme(alice: Any, card: ModelCard) -> None:
    """YAML front matter with HF keys, then one `## Title` per non-empty section in order."""
    update_card(
        actor=alice,
        card=card,
        sections={"metrics": "AUC 0.87", "model_details": "Trees."},
        metadata={"license": "mit", "languages": ["en"], "datasets": ["crm"]},
    )
    text = export_card_readme(card)
    assert text == (
        "---\n"
        "license: mit\n"
        "language:\n- en\n"
        "datasets:\n- crm\n"
        "model_name: churn\n"
        "model_version: 1.0.0\n"
        "---\n"
        "\n## Model details\n\nTrees.\n"
        "\n## Metrics\n\nAUC 0.87\n"
    )


def test_the_export_lists_headings_in_card_order(alice: Any, card: ModelCard) -> None:
    """Every filled section appears once, under its title, in CARD_SECTIONS order."""
    update_card(actor=alice, card=card, sections=FULL_SECTIONS, metadata=FULL_METADATA)
    headings = [line for line in export_card_readme(card).splitlines() if line.startswith("## ")]
    assert headings == [f"## {title}" for field, title in CARD_SECTIONS if field in FULL_SECTIONS]


# README import ------------------------------------------------------------------------


def test_export_then_import_round_trips(alice: Any, card: ModelCard, empty_card: ModelCard) -> None:
    """Importing an export into another version's empty card reproduces the card exactly."""
    update_card(actor=alice, card=card, sections=FULL_SECTIONS, metadata=FULL_METADATA)
    exported = export_card_readme(card)
    import_card_readme(actor=alice, card=empty_card, text=exported)
    reloaded = ModelCard.objects.get(pk=empty_card.pk)
    assert reloaded.sections()[0][2] == FULL_SECTIONS["model_details"]
    assert [s[2] for s in reloaded.sections()] == [s[2] for s in card.sections()]
    assert reloaded.metadata() == card.metadata() == FULL_METADATA
    assert export_card_readme(reloaded) == exported.replace(
        "model_name: churn\nmodel_version: 1.0.0", "model_name: fraud\nmodel_version: 2.0.0"
    )


def test_export_import_export_gives_the_same_string_for_the_same_model(
    alice: Any, churn: Any, card: ModelCard
) -> None:
    """Round trip within a model: the second export equals the first, byte for byte."""
    update_card(actor=alice, card=card, sections=FULL_SECTIONS, metadata=FULL_METADATA)
    other = create_version(actor=alice, model=churn, version="0.9.0").card  # empty: nothing older
    assert other.sections() == [(f, t, "") for f, t in CARD_SECTIONS]
    exported = export_card_readme(card)
    import_card_readme(actor=alice, card=other, text=exported)
    assert export_card_readme(other) == exported.replace("1.0.0", "0.9.0")


TRICKY = {
    "sections": {
        "model_details": "---\nlooks like front matter\n...\n---",
        "metrics": "  indented first line\n\n\n\ttab\u2028separator\n ## indented heading",
    },
    "metadata": {
        "license": "---",
        "languages": ["yes", "null", "1.0", "~"],
        "datasets": ["a: b", "#hash", "[x]", "{y}", "'q'", '"dq"', "& anchor", "*alias"],
        "base_model": " leading space",
        "contacts": ["Zoë <zoe@example.com>", "!tag"],
        "links": ["https://example.com/?q=a:b#frag"],
    },
}


def test_tricky_values_survive_the_round_trip(
    alice: Any, card: ModelCard, empty_card: ModelCard
) -> None:
    """YAML look-alikes, `---` lines in sections and odd whitespace come back unchanged."""
    update_card(actor=alice, card=card, sections=TRICKY["sections"], metadata=TRICKY["metadata"])
    exported = export_card_readme(card)
    import_card_readme(actor=alice, card=empty_card, text=exported)
    reloaded = ModelCard.objects.get(pk=empty_card.pk)
    assert [s[2] for s in reloaded.sections()] == [s[2] for s in card.sections()]
    assert reloaded.metadata() == TRICKY["metadata"]
    assert (
        export_card_readme(reloaded).split("model_version: 2.0.0\n")[1]
        == exported.split("model_version: 1.0.0\n")[1]
    )


def test_import_empties_what_the_file_does_not_mention(alice: Any, card: ModelCard) -> None:
    """After an import the card equals the file: absent sections and metadata become empty."""
    update_card(actor=alice, card=card, sections=FULL_SECTIONS, metadata=FULL_METADATA)
    import_card_readme(actor=alice, card=card, text="---\nlicense: mit\n---\n## Metrics\n\nAUC\n")
    stored = ModelCard.objects.get(pk=card.pk)
    assert {f: v for f, _, v in stored.sections() if v} == {"metrics": "AUC"}
    empty = {"license": "", "languages": [], "datasets": [], "base_model": "",
             "contacts": [], "links": []}  # fmt: skip
    assert stored.metadata() == {**empty, "license": "mit"}
    assert events_for(card).filter(verb="card.updated").count() == 2


def test_it_parses_a_hand_written_readme() -> None:
    """Headings match titles or field names in any case; HF scalars become lists."""
    text = (
        "# Churn model\n\nPredicts churn.\n\n"
        "## OUT-OF-SCOPE USE\n\nCredit.\n\n"
        "## training_data ##\n\nCRM.\n"
    )
    sections, metadata = parse_card_readme("---\nlanguage: en\ndatasets: crm\n---\n" + text)
    assert sections["model_details"] == "# Churn model\n\nPredicts churn."
    assert (sections["out_of_scope_use"], sections["training_data"]) == ("Credit.", "CRM.")
    assert (metadata["languages"], metadata["datasets"], metadata["license"]) == (
        ["en"],
        ["crm"],
        "",
    )


def test_a_readme_without_front_matter_has_empty_metadata() -> None:
    """Front matter is optional."""
    sections, metadata = parse_card_readme("## Metrics\nAUC\n")
    assert sections["metrics"] == "AUC"
    assert metadata == {"license": "", "languages": [], "datasets": [], "base_model": "",
                        "contacts": [], "links": []}  # fmt: skip


def test_text_before_the_first_heading_is_refused_when_model_details_exists() -> None:
    """Preamble can only become Model details if that section is not also in the file."""
    with pytest.raises(ValidationError) as exc:
        parse_card_readme("---\n---\n\nStray text\n\n## Model details\n\nTrees.\n")
    assert "line 4" in _errors(exc)["readme"][0]


def test_bad_yaml_is_reported_with_its_line_in_the_file() -> None:
    """A broken front matter names the file's 1-based line of the problem."""
    text = "---\nmodel_name: churn\nlicense: [unclosed\n---\n## Metrics\n\nAUC\n"
    with pytest.raises(ValidationError) as exc:
        parse_card_readme(text)
    message = _errors(exc)["readme"][0]
    assert message.startswith("Invalid YAML front matter at line 3:")


def test_a_yaml_error_in_the_middle_names_its_own_line() -> None:
    """The line offset counts the opening `---`."""
    with pytest.raises(ValidationError) as exc:
        parse_card_readme("---\nlicense: mit\nbase_model: a: b\n---\n")
    # libyaml says "in this context", the pure-Python loader "here".
    assert "at line 3: mapping values are not allowed" in _errors(exc)["readme"][0]


@pytest.mark.parametrize(
    "front",
    [
        "- a\n- list",
        "just a string",
        "42",
    ],
)
def test_front_matter_must_be_a_mapping(front: str) -> None:
    """A list or scalar as front matter is a clear error, not a crash."""
    with pytest.raises(ValidationError) as exc:
        parse_card_readme(f"---\n{front}\n---\n")
    assert "must be a mapping" in _errors(exc)["readme"][0]


def test_unclosed_front_matter_is_refused() -> None:
    """A file that opens `---` and never closes it is an error."""
    with pytest.raises(ValidationError) as exc:
        parse_card_readme("---\nlicense: mit\n## Metrics\n")
    assert "never closed" in _errors(exc)["readme"][0]


def test_an_unknown_front_matter_key_is_refused() -> None:
    """Keys we cannot store are refused rather than silently dropped."""
    with pytest.raises(ValidationError) as exc:
        parse_card_readme("---\nlicense: mit\npipeline_tag: tabular-classification\n---\n")
    assert "“pipeline_tag”" in _errors(exc)["readme"][0]


def test_an_unknown_heading_is_refused_with_its_line() -> None:
    """Text under a heading that is no card section is not dropped or guessed at."""
    with pytest.raises(ValidationError) as exc:
        parse_card_readme("---\nlicense: mit\n---\n\n## Metrics\n\nAUC\n\n## How to use\n\nx\n")
    message = _errors(exc)["readme"][0]
    assert message.startswith("Unknown section “How to use” at line 9; known sections: ")
    assert "Out-of-scope use" in message


def test_a_section_given_twice_is_refused() -> None:
    """Two headings for one section would make one of them disappear."""
    with pytest.raises(ValidationError) as exc:
        parse_card_readme("## Metrics\nA\n## metrics\nB\n")
    assert "lines 1 and 3" in _errors(exc)["readme"][0]


@pytest.mark.parametrize(
    "payload",
    [
        "license: !!python/object/apply:os.system ['touch {marker}']",
        "!!python/object/apply:subprocess.call [['touch', '{marker}']]",
        "!!python/object:builtins.dict {{}}",
        "license: !!python/name:os.system ''",
    ],
)
def test_python_yaml_tags_are_refused_cleanly(payload: str, tmp_path: Any) -> None:
    """safe_load refuses the tag; the caller gets a ValidationError and nothing runs."""
    marker = tmp_path / "pwned"
    with pytest.raises(ValidationError) as exc:
        parse_card_readme("---\n" + payload.format(marker=marker) + "\n---\n")
    assert "at line 2" in _errors(exc)["readme"][0]
    assert not marker.exists()


@pytest.mark.parametrize("text", ["é" * 600_000, "\ud800" * 400_000, "x" * 1_000_001])
def test_a_readme_over_one_megabyte_is_refused(text: str) -> None:
    """The cap counts UTF-8 bytes, is named, and is checked before any parsing."""
    with pytest.raises(ValidationError) as exc:
        parse_card_readme("## Metrics\n\n" + text)
    assert "1 MB" in _errors(exc)["readme"][0]


def test_an_uploaded_readme_is_read_as_utf8_within_the_cap() -> None:
    """Uploads are decoded as UTF-8 (BOM allowed); other bytes or over 1 MB are refused."""
    upload = SimpleUploadedFile("README.md", "\ufeff## Metrics\n\nZoë\n".encode())
    assert read_readme_upload(upload) == "## Metrics\n\nZoë\n"
    for data, needle in ((b"## Metrics\n\xff\xfe", "byte 11"), (b"x" * 1_000_001, "1 MB")):
        with pytest.raises(ValidationError) as exc:
            read_readme_upload(SimpleUploadedFile("README.md", data))
        assert needle in _errors(exc)["readme"][0]


def test_import_applies_the_same_validation_as_editing(alice: Any, card: ModelCard) -> None:
    """A javascript: link in a README is refused naming `links`; nothing is saved."""
    text = "---\nlinks: ['javascript:alert(1)']\nlicense: mit\n---\n"
    with pytest.raises(ValidationError) as exc:
        import_card_readme(actor=alice, card=card, text=text)
    assert list(_errors(exc)) == ["links"]
    assert ModelCard.objects.get(pk=card.pk).license == ""


# Rendering ----------------------------------------------------------------------------

XSS = (
    "<script>alert(1)</script>\n\n"
    "[click](javascript:alert(1))\n\n"
    '<img src="x.png" onerror="alert(1)">\n\n'
    '<a href="JaVaScRiPt:alert(1)">x</a>'
)


@pytest.mark.parametrize("field", SECTION_FIELDS)
def test_every_section_renders_without_script(alice: Any, card: ModelCard, field: str) -> None:
    """A hostile section is stored as written; its stored HTML has no script, handlers or js:."""
    update_card(actor=alice, card=card, sections={field: XSS})
    saved = ModelCard.objects.get(pk=card.pk)
    assert getattr(saved, field) == XSS
    html = saved.html[field].lower()
    for needle in ("<script", "javascript:", "onerror"):
        assert needle not in html
    assert "click" in html
