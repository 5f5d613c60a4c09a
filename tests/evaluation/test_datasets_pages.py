"""The dataset pages: list, upload form, a dataset's page with its profile and job,
download, delete, and the contract check; who may do each."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.test import Client

from portal.jobs import JobStatus
from portal.uploads import limit_message
from registry.evaluation import dataset_charts
from registry.evaluation.models import Dataset
from registry.evaluation.services.datasets import profile_dataset
from registry.evaluation.templatetags.dataset_tags import figure
from tests.evaluation.dataset_helpers import (
    PNG_BYTES,
    csv_bytes,
    file_upload,
    parquet_bytes,
    stored_files,
    upload,
)

LIST = "/datasets/"
NEW = "/datasets/new/"
PAGE = "/datasets/churn-eval/1/"


def _form(team: Any, data: bytes | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "team": team.slug,
        "name": "churn-eval",
        "version": "1",
        "kind": "evaluation",
        "description": "Q3 customers",
        "file": file_upload(csv_bytes(120) if data is None else data, "churn.csv"),
        **fields,
    }


def _profiled(alice: Any, team: Any, data: bytes | None = None, **fields: Any) -> Dataset:
    dataset = upload(alice, team, parquet_bytes(200) if data is None else data, **fields)
    return profile_dataset(dataset_id=dataset.pk)


# The list -----------------------------------------------------------------------------


def test_pages_need_a_sign_in(db: Any) -> None:
    for url in (LIST, NEW, PAGE, f"{PAGE}validate/"):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_list_shows_kind_rows_and_profile_status_and_filters(
    client_for: Any, alice: Any, victor: Any, risk_team: Any
) -> None:
    _profiled(alice, risk_team, name="churn-eval", kind="evaluation")
    upload(alice, risk_team, name="churn-train", kind="training")
    client = client_for(victor)

    html = client.get(LIST).content.decode()
    training = client.get(LIST, {"kind": "training"}, headers={"HX-Request": "true"})

    assert "2 datasets" in html
    assert 'data-kind="evaluation">Evaluation<' in html and 'data-kind="training">' in html
    assert '<td class="num">200</td>' in html
    assert 'data-job-status="succeeded">Succeeded<' in html
    assert 'data-job-status="queued">Queued<' in html
    fragment = training.content.decode()
    assert "<html" not in fragment and "churn-train" in fragment and "churn-eval" not in fragment
    assert "HX-Request" in training["Vary"]
    assert "Upload a dataset" not in html  # a viewer cannot upload
    assert 'href="/datasets/"' in html  # the site navigation lists Datasets


# Uploading ----------------------------------------------------------------------------


def test_a_member_uploads_and_lands_on_the_dataset_page(
    client_for: Any, alice: Any, risk_team: Any
) -> None:
    client = client_for(alice)
    assert "Upload a dataset" in client.get(LIST).content.decode()
    assert client.get(NEW).status_code == 200

    response = client.post(NEW, _form(risk_team))

    assert response.status_code == 302 and response["Location"] == PAGE
    dataset = Dataset.objects.get()
    assert dataset.created_by == alice and dataset.file_format == "csv"
    page = client.get(PAGE).content.decode()
    assert "churn-eval 1 uploaded" in page


def test_a_refused_file_comes_back_with_the_summary_and_what_was_typed(
    client_for: Any, alice: Any, risk_team: Any, media_root: Path
) -> None:
    response = client_for(alice).post(NEW, _form(risk_team, PNG_BYTES, version="2026-11"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="error-summary"' in html
    assert 'href="#id_file">File: Not a CSV or Parquet file' in html
    assert 'value="2026-11"' in html and "Q3 customers" in html
    assert "Choose the file again" in html
    assert not Dataset.objects.exists() and stored_files(media_root) == []


def test_an_upload_over_the_cap_gets_413_naming_the_limit(
    client_for: Any, alice: Any, risk_team: Any, media_root: Path, settings: Any
) -> None:
    settings.HANDOFF_MAX_UPLOAD_BYTES = 1_000

    response = client_for(alice).post(NEW, _form(risk_team, csv_bytes(400)))

    assert response.status_code == 413
    assert limit_message() in response.content.decode()
    assert not Dataset.objects.exists() and stored_files(media_root) == []


def test_viewers_and_other_teams_may_not_upload(
    client_for: Any, victor: Any, charlie: Any, risk_team: Any
) -> None:
    assert client_for(victor).get(NEW).status_code == 403
    assert client_for(victor).post(NEW, _form(risk_team)).status_code == 403
    assert client_for(charlie).post(NEW, _form(risk_team)).status_code == 403
    assert not Dataset.objects.exists()


def test_the_team_choices_are_the_persons_own(
    client_for: Any, charlie: Any, risk_team: Any
) -> None:
    html = client_for(charlie).get(NEW).content.decode()
    assert '<option value="search-relevance"' in html
    assert "risk-modelling" not in html


# A dataset's page ---------------------------------------------------------------------


def test_the_page_shows_metadata_the_profile_and_a_chart_per_column(
    client_for: Any, alice: Any, victor: Any, risk_team: Any
) -> None:
    dataset = _profiled(alice, risk_team)

    html = client_for(victor).get(PAGE).content.decode()

    assert dataset.sha256 in html and "Parquet" in html
    assert 'href="/datasets/churn-eval/1/download/"' in html
    assert html.count('<tr data-column="') == 8
    assert html.count('data-plotly="column-chart-') == 8
    assert "vendor/plotly.min.js" in html and "js/plots.js" in html
    assert "HyperLogLog" in html and "t-digest" in html
    assert "every 2s" not in html  # the job is over: nothing polls
    island = re.search(
        r'<script id="column-chart-4-data" type="application/json">(.*?)</script>', html
    )
    assert island is not None
    figure = json.loads(island.group(1))
    assert sorted(figure["data"][0]["x"]) == ["east", "north", "south", "west"]
    assert "Delete churn-eval 1" not in html  # a viewer may not


def test_category_values_are_shown_as_text_never_as_markup(
    client_for: Any, alice: Any, victor: Any, risk_team: Any, tmp_path: Path
) -> None:
    path = tmp_path / "hostile.parquet"
    pq.write_table(pa.table({"note": ["<script>alert(1)</script>", "<b>x</b>", "ok"]}), path)
    _profiled(alice, risk_team, path.read_bytes())

    html = client_for(victor).get(PAGE).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # in the table
    assert "\\u0026lt;b\\u0026gt;x\\u0026lt;/b\\u0026gt;" in html  # in the chart data


def test_a_queued_profile_polls_and_a_final_one_reloads_the_page(
    client_for: Any, alice: Any, victor: Any, risk_team: Any
) -> None:
    dataset = upload(alice, risk_team)
    client = client_for(victor)
    job = "/datasets/churn-eval/1/job/"

    page = client.get(PAGE).content.decode()
    polling = client.get(job, headers={"HX-Request": "true"}).content.decode()
    assert f'hx-get="{job}" hx-trigger="every 2s"' in page
    assert "<html" not in polling and 'data-job-status="queued"' in polling
    assert "Cancel" not in polling  # a viewer cannot cancel

    profile_dataset(dataset_id=dataset.pk)
    done = client.get(job, headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true"


def test_a_member_cancels_the_profiling(
    client_for: Any, alice: Any, victor: Any, risk_team: Any
) -> None:
    upload(alice, risk_team)
    cancel = "/datasets/churn-eval/1/job/cancel/"
    assert client_for(alice).get(cancel).status_code == 405
    assert client_for(victor).post(cancel).status_code == 403

    response = client_for(alice).post(cancel, headers={"HX-Request": "true"})

    assert Dataset.objects.get().phase == JobStatus.CANCELLED
    assert response["HX-Refresh"] == "true"
    again = client_for(alice).post(cancel, follow=True).content.decode()
    assert "Nothing to cancel" in again


def test_a_failed_profile_shows_its_reason(
    client_for: Any, alice: Any, victor: Any, risk_team: Any
) -> None:
    dataset = upload(alice, risk_team)
    Path(dataset.file.path).write_bytes(b"a,b\n1,2\n3,4,5\n")
    profile_dataset(dataset_id=dataset.pk)

    html = client_for(victor).get(PAGE).content.decode()

    assert 'data-job-status="failed"' in html and "pyarrow cannot read the file" in html
    assert "No profile" in html


def test_the_download_is_an_attachment_with_its_checksum(
    client_for: Any, alice: Any, victor: Any, risk_team: Any
) -> None:
    data = csv_bytes(40)
    dataset = upload(alice, risk_team, data)

    response = client_for(victor).get("/datasets/churn-eval/1/download/")

    assert response.status_code == 200 and b"".join(response.streaming_content) == data
    assert response["Content-Disposition"] == 'attachment; filename="churn-eval-1.csv"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Checksum-SHA256"] == dataset.sha256


def test_unknown_datasets_are_404(client_for: Any, victor: Any) -> None:
    client = client_for(victor)
    for suffix in ("", "job/", "download/", "validate/"):
        assert client.get(f"{PAGE}{suffix}").status_code == 404


def test_a_member_deletes_a_dataset(
    client_for: Any,
    alice: Any,
    victor: Any,
    risk_team: Any,
    media_root: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    upload(alice, risk_team)
    delete = "/datasets/churn-eval/1/delete/"
    assert client_for(alice).get(delete).status_code == 405
    assert client_for(victor).post(delete).status_code == 403
    assert "Delete churn-eval 1" in client_for(alice).get(PAGE).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(alice).post(delete)

    assert response.status_code == 302 and response["Location"] == LIST
    assert not Dataset.objects.exists() and stored_files(media_root) == []


# The contract check -------------------------------------------------------------------


def test_the_check_page_shows_each_problem_with_its_rows(
    client_for: Any, alice: Any, victor: Any, risk_team: Any, classifier: Any, tmp_path: Path
) -> None:
    rows = pa.table(
        {
            "age": [30.0, 12.0, 45.0],
            "income": [100.0, 200.0, None],
            "tenure": [1.0, 2.0, 3.0],
            "tickets": [0.0, 1.0, 2.0],
            "region": ["north", "south", "mars"],
        }
    )
    path = tmp_path / "three.parquet"
    pq.write_table(rows, path)
    upload(alice, risk_team, path.read_bytes())
    client = client_for(victor)

    form = client.get(PAGE).content.decode()
    html = client.get(f"{PAGE}validate/", {"model": "churn", "version": "1.0.0"}).content.decode()
    latest = client.get(f"{PAGE}validate/", {"model": "churn"}).content.decode()

    assert 'action="/datasets/churn-eval/1/validate/"' in form and '<option value="churn"' in form
    assert "Breaks the contract" in html and "3 problems in 3 rows" in html
    assert "1 value below the minimum 18" in html and "row 1: <code>12.0</code>" in html
    assert "1 value empty in a required column" in html and "row 2: <code>null</code>" in html
    assert "not among the allowed values north, south, east, west" in html
    assert "row 2: <code>mars</code>" in html
    assert "Breaks the contract" in latest  # no version: the model's highest


def test_the_check_names_a_version_that_does_not_exist(
    client_for: Any, alice: Any, risk_team: Any, classifier: Any
) -> None:
    upload(alice, risk_team)

    html = client_for(alice).get(f"{PAGE}validate/", {"model": "churn", "version": "9.0.0"})

    text = html.content.decode()
    assert 'class="error-summary"' in text and "churn has no version 9.0.0." in text
    assert "contract-report" not in text


@pytest.mark.parametrize("model", ["", "nope"])
def test_the_check_needs_a_model(
    client_for: Any, alice: Any, risk_team: Any, classifier: Any, model: str
) -> None:
    upload(alice, risk_team)
    html = client_for(alice).get(f"{PAGE}validate/", {"model": model}).content.decode()
    assert 'href="#id_model">Model:' in html and "contract-report" not in html


# Charts and figures -------------------------------------------------------------------


def test_a_number_column_is_drawn_as_bars_between_its_edges() -> None:
    figure = dataset_charts.column_chart(
        {"kind": "number", "histogram": {"edges": [0.0, 2.0, 4.0, 8.0], "counts": [3, 0, 5]}}
    )

    assert figure is not None
    (bars,) = figure["data"]
    assert (bars["x"], bars["y"], bars["width"]) == ([1.0, 3.0, 6.0], [3, 0, 5], [2.0, 2.0, 4.0])


def test_a_category_column_shows_its_top_values_then_the_rest() -> None:
    figure = dataset_charts.column_chart(
        {
            "kind": "category",
            "histogram": {"values": ["<i>a</i>", True], "counts": [7, 2], "other": 4},
        }
    )

    assert figure is not None
    (bars,) = figure["data"]
    assert bars["x"] == ["&lt;i&gt;a&lt;/i&gt;", "true", "(other)"]
    assert bars["y"] == [7, 2, 4]


def test_columns_without_a_histogram_have_no_chart() -> None:
    assert dataset_charts.column_chart({"kind": "other", "nulls": 3}) is None
    assert dataset_charts.column_chart({"kind": "number", "histogram": None}) is None


@pytest.mark.parametrize(
    "value, shown",
    [(5_000, "5,000"), (13_671.4, "13,671"), (0.21434, "0.2143"), (3.0, "3"), (None, "—")],
)
def test_figures_read_as_people_write_them(value: Any, shown: str) -> None:
    assert figure(value) == shown
