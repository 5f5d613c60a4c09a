"""The demo backlog: the story's items filed by their reporters, linked to the demo models,
worked through a finished and a running sprint over four weeks; and seeding twice adds
nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from portal.backlog.demo_story import (
    API_BUG,
    FINISHED,
    LATER,
    ONNX_BUG,
    RETRO_ADDITION,
    RUNNING,
    SPRINT_14,
    SPRINT_15,
)
from portal.backlog.models import BacklogItem, ItemLink, Iteration
from portal.demo import seed
from portal.models import AuditEvent

STORY = {**SPRINT_14, **SPRINT_15, **LATER, "onnx_bug": ONNX_BUG, "api_bug": API_BUG}


@pytest.fixture
def demo(seeded_demo: Any, db: Any) -> Any:
    return seeded_demo


def test_every_item_of_the_story_is_filed_by_its_reporter_and_linked(demo: Any) -> None:
    for spec in STORY.values():
        item = BacklogItem.objects.get(title=spec.title)
        assert (item.kind, item.reporter.username, item.team.name) == (
            spec.kind,
            spec.reporter,
            spec.team,
        )
        assert sorted(item.assignees.values_list("username", flat=True)) == sorted(spec.assignees)
        assert ItemLink.objects.filter(item=item).count() >= len(spec.about), spec.title


def test_one_sprint_finished_and_one_running_with_four_weeks_of_history(demo: Any) -> None:
    today = timezone.localdate()
    finished = Iteration.objects.get(name=FINISHED)
    running = Iteration.objects.get(name=RUNNING)

    assert finished.end_date < today <= running.end_date
    assert running.start_date <= today
    assert RETRO_ADDITION.strip() in finished.retro_notes
    assert finished.items.filter(status="done").exists()
    assert running.items.exclude(status="done").exists()
    filed = AuditEvent.objects.filter(verb="item.created").values_list("created_at", flat=True)
    assert max(filed) - min(filed) >= timedelta(days=20)


def test_seeding_again_adds_nothing(demo: Any) -> None:
    def counts() -> tuple[int, ...]:
        return tuple(model.objects.count() for model in (BacklogItem, Iteration, ItemLink))

    before = counts()

    seed()

    assert counts() == before
