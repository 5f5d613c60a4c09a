"""The new-version page: every problem in one answer, the file asked for again, a head start.

The form suggests the next version and copies the highest version's contract; a first
version starts empty and speaks of no previous version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from portal.markdown import MAX_MARKDOWN_CHARS
from portal.uploads import limit_message
from registry.forms import CHOOSE_FILE_AGAIN
from registry.models import Artifact, ModelVersion
from registry.semver import next_version_after
from registry.services.versions import check_new_version, create_version
from registry.views import versions as version_views
from tests.registry import onnx_files
from tests.registry.conftest import INPUT_V1, OUTPUT_V1
from tests.registry.onnx_files import onnx_upload

URL = "/models/fraud-score/versions/new/"
INPUT_V2 = {**INPUT_V1, "required": ["amount", "country"]}


def _page_values(response: Any) -> dict[str, str]:
    """What a browser sends back for the page as shown: every box's text, no file."""
    form = response.context["form"]
    return {name: form[name].value() or "" for name in form.fields if name != "artifact"}


def _stored_files(media_root: Path) -> list[Path]:
    return [path for path in media_root.rglob("*") if path.is_file()]


# Every problem at once --------------------------------------------------------------------


def test_one_submit_reports_json_version_and_contract_problems_together(
    client_for: Any, alice: Any, v1: Any, media_root: Path
) -> None:
    """Bad JSON in one box, a build-metadata twin and an example the contract refuses: all three."""
    # given: boxes that parse, one that does not, and a version the service refuses
    response = client_for(alice).post(
        URL,
        {
            "version": "1.0.0+build.5",
            "input_schema": json.dumps(INPUT_V1),
            "example_request": '{"amount": ',
            "output_schema": json.dumps(OUTPUT_V1),
            "example_response": '{"score": "high"}',
        },
    )

    # then
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"version", "example_request", "example_response"}
    assert "differs from it only in build metadata" in errors["version"][0]
    assert errors["example_request"][0].startswith("Example request is not valid JSON")
    assert errors["example_response"][0].startswith("Does not match the contract at score")
    html = response.content.decode()
    assert "There are 3 problems" in html
    assert list(ModelVersion.objects.values_list("version", flat=True)) == ["1.0.0"]
    assert not _stored_files(media_root)


def test_a_bad_version_and_a_refused_schema_are_reported_together(
    client_for: Any, alice: Any, fraud_model: Any
) -> None:
    """The service would stop at the version; the page names the schema's problem as well."""
    response = client_for(alice).post(URL, {"version": "one", "input_schema": '{"type": 5}'})

    errors = response.context["form"].errors
    assert set(errors) == {"version", "input_schema"}
    assert "not a semantic version" in errors["version"][0]
    assert "Not a valid JSON Schema" in errors["input_schema"][0]
    assert not ModelVersion.objects.exists()


def test_a_file_that_is_not_onnx_is_reported_with_the_other_problems(
    client_for: Any, alice: Any, v1: Any
) -> None:
    """A taken version and an HTML file named .onnx: both, and the file is asked for again."""
    response = client_for(alice).post(
        URL,
        {"version": "1.0.0", "artifact": onnx_upload(onnx_files.html_bytes(), "evil.onnx")},
    )

    errors = response.context["form"].errors
    assert set(errors) == {"version", "artifact"}
    assert "already has version 1.0.0" in errors["version"][0]
    assert "Not an ONNX model" in errors["artifact"][0]
    assert CHOOSE_FILE_AGAIN in response.content.decode()
    assert not Artifact.objects.exists()


def test_long_notes_are_reported_with_the_other_problems(
    client_for: Any, alice: Any, v1: Any
) -> None:
    """Notes the renderer refuses are named beside a taken version, not on the next submit."""
    response = client_for(alice).post(
        URL, {"version": "1.0.0", "notes": "x" * (MAX_MARKDOWN_CHARS + 1)}
    )

    errors = response.context["form"].errors
    assert set(errors) == {"version", "notes"}
    assert "longer than" in errors["notes"][0]


def test_a_form_that_the_checks_pass_registers_in_one_submit(
    client_for: Any, alice: Any, v1: Any, onnx_bytes: bytes
) -> None:
    """Checking first changes nothing for a good form: the version and its file are stored."""
    response = client_for(alice).post(
        URL,
        {
            "version": "1.1.0",
            "notes": "Retrained.",
            "input_schema": json.dumps(INPUT_V2),
            "example_request": '{"amount": 1, "country": "NL"}',
            "artifact": onnx_upload(onnx_bytes, "fraud.onnx"),
        },
    )

    assert response.status_code == 302
    new = ModelVersion.objects.get(version="1.1.0")
    assert new.input_schema == INPUT_V2 and new.output_schema == OUTPUT_V1
    assert Artifact.objects.get(version=new).size == len(onnx_bytes)


def test_the_check_writes_nothing_and_copies_an_empty_side_as_registering_does(
    alice: Any, v1: Any
) -> None:
    """No schema given: that side (its example too) comes from the version below, as stored."""
    check_new_version(
        model=v1.model, version="1.1.0", example_request={"no": "amount"}, notes="Fine."
    )
    with pytest.raises(ValidationError) as refused:
        check_new_version(
            model=v1.model,
            version="1.0.0",
            input_schema=INPUT_V1,
            example_request={"no": "amount"},
        )

    assert set(refused.value.message_dict) == {"version", "example_request"}
    assert list(ModelVersion.objects.values_list("version", flat=True)) == ["1.0.0"]


def test_the_page_opens_with_an_error_summary_and_guards_unsaved_edits(
    client_for: Any, alice: Any, v1: Any, monkeypatch: Any
) -> None:
    """The summary stands above the form and holds the non-field errors, shown once."""
    client = client_for(alice)
    page = client.get(URL).content.decode()
    form_tag = page[page.index('<form method="post" enctype') :].split(">", 1)[0]
    assert "data-guard-unsaved" in form_tag
    assert "data-error-summary" not in page

    def refuse(**_: Any) -> None:
        raise ValidationError("The registry is read-only today.")

    monkeypatch.setattr(version_views, "check_new_version", refuse)
    html = client.post(URL, {"version": "1.1.0"}).content.decode()

    summary = html.index("data-error-summary")
    form = html.index('<form method="post" enctype="multipart/form-data"')
    assert summary < form
    assert html.count("The registry is read-only today.") == 1


# The chosen file --------------------------------------------------------------------------


def test_after_an_error_the_page_asks_for_the_chosen_file_again(
    client_for: Any, alice: Any, v1: Any, onnx_bytes: bytes
) -> None:
    """A browser cannot refill a file input: the notice stands by it, tied to it for readers."""
    response = client_for(alice).post(
        URL, {"version": "1.0.0", "artifact": onnx_upload(onnx_bytes, "fraud.onnx")}
    )

    html = response.content.decode()
    assert f'<p class="help" id="id_artifact_helptext">{CHOOSE_FILE_AGAIN}</p>' in html
    assert 'aria-describedby="id_artifact_helptext' in html
    assert "data-choose-again" in html


def test_no_file_notice_when_no_file_was_chosen(client_for: Any, alice: Any, v1: Any) -> None:
    """Without a chosen file there is nothing to choose again, and a fresh page says nothing."""
    client = client_for(alice)
    refused = client.post(URL, {"version": "1.0.0"})

    assert refused.context["form"].errors
    assert "Choose the ONNX file again" not in refused.content.decode()
    assert "Choose the ONNX file again" not in client.get(URL).content.decode()


def test_an_upload_over_the_cap_asks_for_the_file_again(
    client_for: Any, alice: Any, fraud_model: Any, settings: Any
) -> None:
    """The form comes back with 413, the limit named and the file asked for again."""
    # Over the cap, yet small enough to pass the declared-length check and reach the page.
    settings.HANDOFF_MAX_UPLOAD_BYTES = 1000

    response = client_for(alice).post(
        URL, {"version": "1.0.0", "artifact": onnx_upload(b"\x08\x07" + b"x" * 5000)}
    )

    assert response.status_code == 413
    assert response.context["form"].errors["artifact"] == [limit_message()]
    assert CHOOSE_FILE_AGAIN in response.content.decode()


# A head start: the next version and the latest contract -----------------------------------


@pytest.mark.parametrize(
    ("latest", "suggested"),
    [
        ("1.2.0", "1.3.0"),
        ("1.2.3", "1.3.0"),
        ("0.0.1", "0.1.0"),
        ("1.9.0", "1.10.0"),
        ("2.0.0-rc.1", "2.0.0"),
        ("1.2.3-rc.1", "1.3.0"),
        ("1.2.0+build.7", "1.3.0"),
    ],
)
def test_the_suggestion_is_the_next_minor_or_the_release_a_pre_release_leads_to(
    latest: str, suggested: str
) -> None:
    """Next minor; a pre-release suggests its release; build metadata is dropped."""
    assert next_version_after(latest) == suggested


def test_the_version_box_suggests_the_next_minor_of_the_highest_version(
    client_for: Any, alice: Any, fraud_model: Any, v1: Any
) -> None:
    """Highest by semver, not the newest: a hotfix registered last does not lead."""
    create_version(actor=alice, model=fraud_model, version="1.2.0")
    create_version(actor=alice, model=fraud_model, version="1.0.1")

    response = client_for(alice).get(URL)

    assert response.context["form"]["version"].value() == "1.3.0"
    assert "Semantic version. Latest is 1.2.0." in response.content.decode()


def test_the_contract_boxes_start_from_the_highest_version(
    client_for: Any, alice: Any, fraud_model: Any, v1: Any
) -> None:
    """Its schemas and examples fill the boxes and the page says so; sent back, they stick."""
    create_version(
        actor=alice,
        model=fraud_model,
        version="1.1.0",
        input_schema=INPUT_V2,
        output_schema=OUTPUT_V1,
        example_request={"amount": 5, "country": "FR"},
    )
    client = client_for(alice)

    page = client.get(URL)

    form = page.context["form"]
    assert json.loads(form["input_schema"].value()) == INPUT_V2
    assert json.loads(form["example_request"].value()) == {"amount": 5, "country": "FR"}
    assert form["example_response"].value() is None
    assert "Copied from 1.1.0; change what differs." in page.content.decode()
    # when the page is sent back as shown
    response = client.post(URL, _page_values(page))
    # then
    assert response.status_code == 302
    new = ModelVersion.objects.get(version="1.2.0")
    assert new.input_schema == INPUT_V2 and new.output_schema == OUTPUT_V1
    assert new.example_request == {"amount": 5, "country": "FR"}
    assert new.example_response is None


def test_a_highest_version_without_a_contract_copies_nothing(
    client_for: Any, alice: Any, draft: Any
) -> None:
    """Empty schemas are not copied, and the page does not claim to have copied them."""
    response = client_for(alice).get("/models/tumour-screening/versions/new/")

    form = response.context["form"]
    assert form["version"].value() == "1.1.0"
    assert form["input_schema"].value() is None and form["output_schema"].value() is None
    assert "Copied from" not in response.content.decode()


def test_a_first_version_prefills_nothing_and_speaks_of_no_previous_version(
    client_for: Any, alice: Any, fraud_model: Any
) -> None:
    """No suggestion in the box, no "latest", no copied contract, no "previous version"."""
    response = client_for(alice).get(URL)

    form = response.context["form"]
    assert all(form[name].value() is None for name in form.fields if name != "artifact")
    html = response.content.decode()
    assert "Semantic version, e.g. 1.0.0." in html
    assert "previous" not in html.lower()
    assert "Latest" not in html and "Copied from" not in html
    assert "Its card starts empty" in html


def test_a_later_version_says_what_an_empty_schema_box_keeps(
    client_for: Any, alice: Any, v1: Any
) -> None:
    """With versions before it, an emptied schema box keeps the previous version's."""
    html = client_for(alice).get(URL).content.decode()

    assert "Left empty, the previous version&#x27;s schema and example are kept." in html
    assert "The card is copied from the previous version" in html
