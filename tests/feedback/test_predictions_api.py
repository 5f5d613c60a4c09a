"""Logging predictions: idempotent, partial on bad records, contract breaks kept and flagged."""

from __future__ import annotations

from typing import Any

import pytest

from feedback.models import Feedback, PredictionKey, PredictionLog, Scope
from tests.feedback.conftest import prediction

URL = "/api/v1/predictions"


def test_the_same_batch_twice_is_stored_once(key_for: Any, scorer: Any) -> None:
    client = key_for(scorer)
    batch = [prediction(n) for n in range(50)]

    first = client.post(URL, batch, format="json")
    again = client.post(URL, batch, format="json")

    assert first.status_code == 200, first.json()
    assert first.json() == {
        "accepted": 50,
        "duplicates": 0,
        "rejected": 0,
        "errors": [],
        "contract_violations": 0,
    }
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 50)
    assert PredictionLog.objects.count() == PredictionKey.objects.count() == 50


def test_a_repeated_id_inside_one_batch_counts_once(key_for: Any, scorer: Any) -> None:
    response = key_for(scorer).post(URL, [prediction(1), prediction(1)], format="json")

    assert (response.json()["accepted"], response.json()["duplicates"]) == (1, 1)


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"prediction_id": None}, "prediction_id: required"),
        ({"version": "9.9.9"}, "no version '9.9.9'"),
        ({"model": "nope"}, "no model named 'nope'"),
        ({"features": [1, 2]}, "features: a JSON object"),
        ({"output": {}}, "output: give a label or a value"),
        ({"timestamp": "yesterday"}, "not an ISO 8601 time"),
        ({"timestamp": "2026-11-30T10:00:00"}, "give the offset too"),
        ({"latency_ms": -1}, "latency_ms: zero or more"),
        ({"surprise": 1}, "unknown field surprise"),
        ({"features": {"age": "\u0000"}}, "NUL"),
    ],
)
def test_a_malformed_record_is_rejected_by_index_and_the_rest_stored(
    key_for: Any, scorer: Any, bad: dict[str, Any], reason: str
) -> None:
    batch = [prediction(1), prediction(2, **bad), prediction(3)]

    response = key_for(scorer).post(URL, batch, format="json")

    body = response.json()
    assert response.status_code == 200
    assert (body["accepted"], body["rejected"]) == (2, 1)
    assert body["errors"][0]["index"] == 1 and reason in body["errors"][0]["reason"]
    assert sorted(PredictionLog.objects.values_list("prediction_id", flat=True)) == ["p-1", "p-3"]


def test_features_that_break_the_contract_are_stored_flagged_with_reasons(
    key_for: Any, scorer: Any
) -> None:
    batch = [prediction(1, features={"age": -3, "plan": "gold"}), prediction(2)]

    response = key_for(scorer).post(URL, batch, format="json")

    assert (response.json()["accepted"], response.json()["contract_violations"]) == (2, 1)
    flagged = PredictionLog.objects.get(prediction_id="p-1")
    assert flagged.contract_violation
    assert any(reason.startswith("age:") for reason in flagged.violations)
    assert any(reason.startswith("plan:") for reason in flagged.violations)
    assert not PredictionLog.objects.get(prediction_id="p-2").contract_violation


def test_feedback_that_came_first_is_linked_when_its_prediction_arrives(
    key_for: Any, scorer: Any
) -> None:
    client = key_for(scorer)
    early = client.post(
        "/api/v1/feedback",
        {"prediction_id": "p-7", "kind": "thumbs", "value": "down"},
        format="json",
    )
    assert early.json()["accepted"] == 1
    assert Feedback.objects.get().prediction_key is None

    client.post(URL, [prediction(7)], format="json")

    assert Feedback.objects.get().prediction_key == PredictionKey.objects.get(prediction_id="p-7")


def test_a_whole_body_that_is_not_records_is_a_400(key_for: Any, scorer: Any) -> None:
    client = key_for(scorer)

    assert client.post(URL, "not json", content_type="application/json").status_code == 400
    assert client.post(URL, [], format="json").json()["errors"]["detail"][0].startswith("The body")
    assert client.post(URL, 7, format="json").status_code == 400


def test_a_key_logs_only_for_its_own_model_and_scope(
    key_for: Any, scorer: Any, other_model: Any
) -> None:
    feedback_only = key_for(scorer, Scope.FEEDBACK)
    scorer_key = key_for(scorer)

    assert feedback_only.post(URL, [prediction(1)], format="json").status_code == 403
    foreign = scorer_key.post(
        URL, [prediction(1), prediction(2, model="other", version="0.1.0")], format="json"
    )
    assert foreign.status_code == 403 and "other" in foreign.json()["errors"]["detail"][0]
    assert not PredictionLog.objects.exists()  # refused whole


def test_a_revoked_or_made_up_key_gets_401(alice: Any, key_for: Any, scorer: Any) -> None:
    from feedback.services.keys import revoke_key

    client = key_for(scorer)
    revoke_key(actor=alice, key=client.key)
    revoked = client.post(URL, [prediction(1)], format="json")
    client.credentials(HTTP_AUTHORIZATION="ApiKey hfk_made-up")
    made_up = client.post(URL, [prediction(1)], format="json")

    assert revoked.status_code == made_up.status_code == 401


def test_lists_page_by_cursor_newest_first_and_only_what_the_key_reads(
    key_for: Any, scorer: Any, other_model: Any, api_for: Any, alice: Any
) -> None:
    client = key_for(scorer)
    client.post(
        URL,
        [prediction(n, timestamp=f"2026-11-{n + 1:02d}T10:00:00Z") for n in range(5)],
        format="json",
    )
    key_for(other_model).post(URL, [prediction(99, model="other", version="0.1.0")], format="json")

    first = client.get(URL, {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    assert [r["prediction_id"] for r in first["results"]] == ["p-4", "p-3"]
    assert [r["prediction_id"] for r in second["results"]] == ["p-2", "p-1"]
    assert "count" not in first  # no COUNT over the whole table
    everyone = api_for(alice).get(URL).json()["results"]
    assert {r["model"] for r in everyone} == {"scorer", "other"}
    assert key_for(scorer, Scope.PREDICTIONS).get(URL).status_code == 403  # no read scope


@pytest.mark.parametrize(
    "sent", ["2026-11-30T10:00:00Z", "2026-11-30T11:00:00.250+01:00", "20261130T100000Z"]
)
def test_any_iso_8601_spelling_python_reads_is_stored_as_the_same_moment(
    key_for: Any, scorer: Any, sent: str
) -> None:
    from datetime import datetime

    response = key_for(scorer).post(URL, [prediction(1, timestamp=sent)], format="json")

    assert response.json()["accepted"] == 1, response.json()
    stored = PredictionLog.objects.get().predicted_at
    assert stored == datetime.fromisoformat(sent)


def test_numbers_json_cannot_carry_reject_their_record_and_long_integers_stay_exact(
    key_for: Any, scorer: Any
) -> None:
    """1e400 parses to infinity, which PostgreSQL's JSON cannot hold: that record is
    rejected, not the batch. An integer past 64 bits is stored digit for digit."""
    import json

    huge = prediction(2)
    huge["features"]["account"] = 123456789012345678901234567890
    overflowing = json.dumps(prediction(3)).replace(
        '"plan": "basic"', '"plan": "basic", "x": 1e400'
    )
    text = f"[{json.dumps(prediction(1))}, {json.dumps(huge)}, {overflowing}]"

    body = key_for(scorer).post(URL, text, content_type="application/json").json()

    assert (body["accepted"], body["rejected"]) == (2, 1), body
    assert body["errors"] == [{"index": 2, "reason": "features: holds a number too large to store"}]
    stored = PredictionLog.objects.get(prediction_id="p-2").features
    assert stored["account"] == 123456789012345678901234567890


def test_a_batch_stored_in_chunks_counts_and_names_records_across_chunk_boundaries(
    key_for: Any, scorer: Any
) -> None:
    records = [prediction(n) for n in range(600)]
    records[10] = {"prediction_id": "p-10"}  # malformed, in the first chunk
    records[300] = prediction(300, version="9.9.9")  # no such version, in the second
    records[520] = prediction(5)  # the id of record 5, two chunks later
    records[599] = prediction(599, features={"age": "old"})  # breaks the contract, last chunk

    answer = key_for(scorer).post(URL, records, format="json").json()

    assert (answer["accepted"], answer["duplicates"], answer["rejected"]) == (597, 1, 2)
    assert [error["index"] for error in answer["errors"]] == [10, 300]
    assert answer["contract_violations"] == 1
    assert PredictionLog.objects.count() == PredictionKey.objects.count() == 597
    assert PredictionLog.objects.get(prediction_id="p-599").contract_violation


def test_a_chunk_that_fails_to_store_leaves_none_of_its_batch(
    key_for: Any, scorer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feedback.services import prediction_store

    added: list[int] = []
    real_add = prediction_store.RowStore.add

    def add_then_fail(store: Any, rows: Any, violations: Any) -> None:
        added.append(len(rows))
        real_add(store, rows, violations)
        if len(added) == 3:
            raise RuntimeError("the database went away")

    monkeypatch.setattr(prediction_store.RowStore, "add", add_then_fail)
    client = key_for(scorer)
    client.raise_request_exception = False

    response = client.post(URL, [prediction(n) for n in range(1_000)], format="json")

    assert response.status_code == 500
    assert added == [250, 250, 250]
    assert PredictionLog.objects.count() == PredictionKey.objects.count() == 0


def test_an_unknown_field_named_with_a_lone_surrogate_is_rejected_in_valid_json(
    key_for: Any, scorer: Any
) -> None:
    body = '[{"prediction_id": "p-1", "a\\ude11": 1}]'

    response = key_for(scorer).post(URL, body, content_type="application/json")

    assert response.status_code == 200
    assert "unknown field a\\\\ude11;" in response.content.decode()
