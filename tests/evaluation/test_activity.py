"""Evaluation work reads as sentences in the activity feeds, linked to its pages."""

from __future__ import annotations

from typing import Any

from portal.activity import PHRASES, describe, links_for
from portal.models import AuditEvent
from registry.evaluation.services.evaluations import start_evaluation

VERBS = (
    "dataset.created",
    "evaluation.started",
    "gate.added",
    "gate.overridden",
    "contract.acknowledged",
    "version.input_mapping_changed",
)


def test_every_evaluation_verb_has_a_phrase() -> None:
    assert all(verb in PHRASES for verb in VERBS)


def test_a_started_evaluation_links_to_its_page_and_a_dataset_to_its_own(
    alice: Any,
    classifier: Any,
    data_file: Any,
    make_dataset: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    dataset = make_dataset(data_file(rows=200))
    with django_capture_on_commit_callbacks(execute=True):
        evaluation = start_evaluation(
            actor=alice, version=classifier, dataset=dataset, label_column="churned"
        )
    event = AuditEvent.objects.get(verb="evaluation.started")

    links = links_for([event])
    url = links[(event.target_type_id, event.target_id)]
    entry = describe(event, actor="Alice", url=url)

    assert url == evaluation.get_absolute_url()
    assert f"{entry.before}{entry.target}{entry.after}".startswith("started the evaluation")
