"""Versions: semver, numbering, copy-forward, lifecycle and permissions."""

import random

import pytest
import semver
from django.core.exceptions import PermissionDenied, ValidationError

from portal.models import AuditEvent
from registry.models import ModelVersion
from registry.services.models import create_model, delete_model, update_model
from registry.services.versions import (
    contract_changes,
    create_version,
    delete_version,
    parse_semver,
    previous_version,
    semver_sort_key,
    set_version_status,
    update_contract,
    update_notes,
)
from tests.registry.conftest import INPUT_V1, OUTPUT_V1


def test_sort_keys_order_like_semver_precedence() -> None:
    """Text order of the keys equals semver order, pre-releases included."""
    texts = [
        "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
        "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.2.0", "1.10.0", "2.0.0", "10.0.0",
    ]  # fmt: skip
    shuffled = random.Random(4).sample(texts, len(texts))
    by_key = sorted(shuffled, key=lambda t: semver_sort_key(semver.Version.parse(t)))
    assert by_key == texts


def test_an_invalid_semver_names_the_field() -> None:
    """'1.2' and 'v1' are refused with the expected format."""
    for text in ("1.2", "v1.0.0", "", "1.0.0.0"):
        with pytest.raises(ValidationError) as caught:
            parse_semver(text)
        assert "not a semantic version" in caught.value.message_dict["version"][0]


def test_versions_are_numbered_and_ordered_by_semver(alice, fraud_model) -> None:
    """Numbers follow registration; the database orders by semver, not text."""
    for text in ("1.9.0", "1.10.0", "1.2.0"):
        create_version(actor=alice, model=fraud_model, version=text)
    rows = list(fraud_model.versions.values_list("version", "number"))
    assert rows == [("1.10.0", 2), ("1.9.0", 1), ("1.2.0", 3)]


def test_a_duplicate_version_is_refused(alice, v1) -> None:
    """The same semver twice names the field."""
    with pytest.raises(ValidationError) as caught:
        create_version(actor=alice, model=v1.model, version="1.0.0")
    assert "already has version 1.0.0" in caught.value.message_dict["version"][0]


def test_numbers_are_never_reused_after_a_draft_is_deleted(alice, fraud_model) -> None:
    """MLflow clients address versions by number, so a number means one version forever."""
    create_version(actor=alice, model=fraud_model, version="1.0.0")
    second = create_version(actor=alice, model=fraud_model, version="1.1.0")
    delete_version(actor=alice, version=second)
    assert create_version(actor=alice, model=fraud_model, version="1.2.0").number == 3


def test_a_new_version_inherits_the_contract_and_card(alice, v1) -> None:
    """Without a contract, the previous version's is copied; so is the card."""
    card = v1.card
    card.intended_use = "Scoring card payments."
    card.save()
    v2 = create_version(actor=alice, model=v1.model, version="1.1.0")
    assert v2.input_schema == INPUT_V1 and v2.output_schema == OUTPUT_V1
    assert v2.example_request == {"amount": 12.5, "country": "DE"}
    assert v2.card.intended_use == "Scoring card payments."
    assert previous_version(v2) == v1


def test_an_example_that_breaks_the_contract_creates_nothing(alice, v1) -> None:
    """A bad example refuses the whole version: no row, no card, no event."""
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as caught:
        create_version(
            actor=alice,
            model=v1.model,
            version="2.0.0",
            input_schema=INPUT_V1,
            output_schema=OUTPUT_V1,
            example_request={"country": "DE"},
        )
    assert "'amount' is a required property" in caught.value.message_dict["example_request"][0]
    assert not ModelVersion.objects.filter(version="2.0.0").exists()
    assert AuditEvent.objects.count() == events


def test_contract_changes_are_listed_against_the_previous_version(alice, v1) -> None:
    """A new required input is a breaking change of v2."""
    schema = {**INPUT_V1, "required": ["amount", "country"]}
    v2 = create_version(
        actor=alice, model=v1.model, version="2.0.0", input_schema=schema, output_schema=OUTPUT_V1
    )
    changes = contract_changes(previous_version(v2), v2)
    assert [(c.kind, c.path) for c in changes] == [("breaking", "/country")]
    assert (
        AuditEvent.objects.get(verb="version.created", target_id=str(v2.pk)).after[
            "breaking_changes"
        ]
        == 1
    )


def test_only_the_team_may_change_a_model(alice, bob, charlie, victor, v1) -> None:
    """A teammate may; an outsider and a viewer may not."""
    create_version(actor=bob, model=v1.model, version="1.0.1")
    update_model(actor=bob, model=v1.model, title="Fraud score (cards)")
    for stranger in (charlie, victor):
        with pytest.raises(PermissionDenied):
            create_version(actor=stranger, model=v1.model, version="9.0.0")
        with pytest.raises(PermissionDenied):
            update_contract(actor=stranger, version=v1, input_schema={}, output_schema={})
        with pytest.raises(PermissionDenied):
            set_version_status(actor=stranger, version=v1, status="candidate")


def test_viewers_and_outsiders_cannot_register_models(victor, charlie, risk_team) -> None:
    """A viewer holds no author role; charlie is not in the Risk team."""
    with pytest.raises(PermissionDenied, match="Data scientist or Engineer"):
        create_model(actor=victor, name="x", title="X", team=risk_team)
    with pytest.raises(PermissionDenied, match="not a member"):
        create_model(actor=charlie, name="x", title="X", team=risk_team)


def test_a_duplicate_or_reserved_model_name_is_refused(alice, fraud_model, risk_team) -> None:
    """Model names are unique slugs, and "new" belongs to the create page's URL."""
    with pytest.raises(ValidationError) as caught:
        create_model(actor=alice, name="fraud-score", title="Again", team=risk_team)
    assert "already exists" in caught.value.message_dict["name"][0]
    with pytest.raises(ValidationError, match="reserved"):
        create_model(actor=alice, name="new", title="New", team=risk_team)


def test_status_moves_directly_only_up_to_candidate(alice, v1) -> None:
    """draft → candidate is direct; candidate → production needs a release."""
    set_version_status(actor=alice, version=v1, status="candidate")
    with pytest.raises(ValidationError, match="use a release"):
        set_version_status(actor=alice, version=v1, status="production")
    set_version_status(actor=alice, version=v1, status="production", via_release=True)
    v1.refresh_from_db()
    assert v1.status == "production"
    with pytest.raises(ValidationError):
        set_version_status(actor=alice, version=v1, status="draft")
    events = AuditEvent.objects.filter(verb="version.status_changed").order_by("id")
    assert [e.after["status"] for e in events] == ["candidate", "production"]


def test_released_models_and_non_draft_versions_cannot_be_deleted(alice, v1) -> None:
    """Deleting history that production depends on is refused."""
    set_version_status(actor=alice, version=v1, status="candidate")
    with pytest.raises(ValidationError, match="Only draft"):
        delete_version(actor=alice, version=v1)
    set_version_status(actor=alice, version=v1, status="production", via_release=True)
    with pytest.raises(ValidationError, match="released versions"):
        delete_model(actor=alice, model=v1.model)


def test_a_version_differing_only_in_build_metadata_is_a_duplicate(alice, fraud_model) -> None:
    """1.0.0+a and 1.0.0+b have one precedence: the second is refused, naming the first."""
    create_version(actor=alice, model=fraud_model, version="1.0.0+a")
    for text in ("1.0.0+b", "1.0.0"):
        with pytest.raises(ValidationError) as caught:
            create_version(actor=alice, model=fraud_model, version=text)
        message = caught.value.message_dict["version"][0]
        assert "already has version 1.0.0+a" in message and "build metadata" in message
    assert list(fraud_model.versions.values_list("version", flat=True)) == ["1.0.0+a"]


def test_build_metadata_twins_of_other_models_do_not_clash(alice, v1, risk_team) -> None:
    """The precedence is unique per model only."""
    other = create_model(actor=alice, name="other", title="Other", team=risk_team)
    assert create_version(actor=alice, model=other, version="1.0.0+b").version == "1.0.0+b"


def model_events(model) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(verb="model.updated", target_id=str(model.pk)))


def test_changing_only_the_tags_records_the_tag_names(alice, fraud_model) -> None:
    """Before and after hold the sorted tag names."""
    update_model(actor=alice, model=fraud_model, tags=["Payments", "cards"])
    [event] = model_events(fraud_model)
    assert event.before == {"tags": ["payments", "tabular"]}
    assert event.after == {"tags": ["cards", "payments"]}
    assert list(fraud_model.tags.values_list("name", flat=True)) == ["cards", "payments"]


def test_an_update_records_only_what_changed(alice, bob, fraud_model) -> None:
    """An unchanged field passed along (as the edit form does) is left out of the event."""
    update_model(
        actor=bob,
        model=fraud_model,
        title="Fraud score (cards)",
        summary=fraud_model.summary,
        tags=["tabular", "payments"],
    )
    [event] = model_events(fraud_model)
    assert event.before == {"title": "Fraud score"}
    assert event.after == {"title": "Fraud score (cards)"}
    fraud_model.refresh_from_db()
    assert fraud_model.updated_by == bob


def test_an_update_that_changes_nothing_records_nothing(alice, bob, fraud_model) -> None:
    """Same values and the same tags: no event, and the model is not touched."""
    updated_at = fraud_model.updated_at
    update_model(
        actor=bob,
        model=fraud_model,
        title=fraud_model.title,
        task_type=fraud_model.task_type,
        tags=["Tabular", "payments"],
    )
    assert model_events(fraud_model) == []
    fraud_model.refresh_from_db()
    assert (fraud_model.updated_at, fraud_model.updated_by) == (updated_at, alice)


def test_a_notes_change_records_the_old_and_new_text(alice, v1) -> None:
    """The event keeps both texts; saving the same notes again records nothing."""
    update_notes(actor=alice, version=v1, notes="First cut.")
    update_notes(actor=alice, version=v1, notes="Calibrated on March data.")
    update_notes(actor=alice, version=v1, notes="Calibrated on March data.")
    events = AuditEvent.objects.filter(verb="version.notes_updated").order_by("id")
    assert [(e.before, e.after) for e in events] == [
        ({"notes": ""}, {"notes": "First cut."}),
        ({"notes": "First cut."}, {"notes": "Calibrated on March data."}),
    ]
    v1.refresh_from_db()
    assert v1.notes == "Calibrated on March data."
