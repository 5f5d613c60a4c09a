"""The demo backlog: items about the demo models, worked through two iterations.

Everything goes through the services (create_item, move_item, add_comment, …), so the audit
log, the notifications and the burndowns are the real thing; the items and notes are in
``demo_story.py``. The history spans the last four weeks: audit events cannot be back-dated
after the fact, so the services run on a demo clock (``_clock``) that says when each step
happened. Seeding again changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Any

import time_machine
from django.db import models
from django.utils import timezone

from portal.backlog.demo_story import (
    API_BUG,
    FINISHED,
    LATER,
    ONNX_BUG,
    RETRO_ADDITION,
    RETRO_NOTES,
    REVIEW_NOTES,
    RUNNING,
    SPRINT_14,
    SPRINT_15,
    Spec,
)
from portal.backlog.links import linkable_model
from portal.backlog.models import BacklogItem, Iteration
from portal.backlog.services.comments import add_comment
from portal.backlog.services.items import create_item, move_item, update_item
from portal.backlog.services.iterations import create_iteration, update_iteration_notes
from portal.models import Team


def seed_backlog(users: dict[str, Any]) -> None:
    """File the demo backlog once; a second run finds Sprint 14 and stops."""
    risk = Team.objects.get(name="Risk Modelling")
    if Iteration.objects.filter(team=risk, name=FINISHED).exists():
        return
    teams = {team.name: team for team in Team.objects.all()}
    demo = _Demo(users, teams, today=timezone.localdate())
    with _clock() as demo.at:
        demo.sprint_14(risk)
        demo.sprint_15(risk)
        demo.search_team()


@contextmanager
def _clock() -> Iterator[Callable[[datetime], None]]:
    """Run the services as if it were the time the caller sets (always in the past).

    time-machine moves the process's clock itself, so every ``now`` (auto_now fields, the
    audit log's ``created_at``, ``closed_at``) reads the time of the story's step.
    """
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller.move_to


class _Demo:
    """The demo's story, told through the services in the order it happened."""

    def __init__(self, users: dict[str, Any], teams: dict[str, Team], *, today: date) -> None:
        self.users, self.teams, self.today = users, teams, today
        self.items: dict[str, BacklogItem] = {}
        self.at: Callable[[datetime], None] = lambda when: None
        self.s14_start = today - timedelta(days=24)
        self.s15_start = self.s14_start + timedelta(days=14)

    def day(self, offset: int, hour: int, minute: int = 0) -> None:
        """Set the clock to ``offset`` days from today (negative: the past), local time."""
        when = datetime.combine(self.today + timedelta(days=offset), time(hour, minute))
        self.at(timezone.make_aware(when))

    def file(self, key: str, spec: Spec, *, status: str, iteration: Iteration | None) -> None:
        self.items[key] = create_item(
            actor=self.users[spec.reporter],
            team=self.teams[spec.team],
            title=spec.title,
            kind=spec.kind,
            description=spec.description,
            priority=spec.priority,
            discipline=spec.discipline,
            status=status,
            assignees=[self.users[name] for name in spec.assignees],
            labels=spec.labels,
            iteration=iteration,
            links=_targets(spec.about),
        )

    def move(self, key: str, who: str, *statuses: str) -> None:
        for status in statuses:
            move_item(actor=self.users[who], item=self.items[key], status=status)

    def say(self, key: str, who: str, body: str) -> None:
        add_comment(actor=self.users[who], item=self.items[key], body=body)

    def sprint_14(self, risk: Team) -> None:
        self.day(-25, 10)
        s14 = create_iteration(
            actor=self.users["alice"],
            team=risk,
            name=FINISHED,
            start_date=self.s14_start,
            end_date=self.s14_start + timedelta(days=13),
        )
        for key, spec in SPRINT_14.items():
            self.file(key, spec, status="todo", iteration=s14)
        for key in ("lightgbm", "parquet"):
            self.file(key, LATER[key], status="backlog", iteration=None)
        self.day(-24, 9, 30)
        self.move("calibrate", "alice", "in_progress")
        self.move("contract", "bob", "in_progress")
        self.say(
            "drift",
            "alice",
            "@bob the flavanoids histogram moved right after the March batch. Did the "
            "loader change units? PSI is 0.27 on the last 4 weeks.",
        )
        self.day(-23, 11)
        self.move("threshold", "carol", "in_progress")
        self.day(-22, 15)
        self.move("contract", "bob", "in_review")
        self.say("contract", "carol", "@bob looks right. Add a test at exactly 1,700 mg/L too.")
        self.day(-21, 10)
        self.move("contract", "carol", "done")
        self.file("onnx_bug", ONNX_BUG, status="todo", iteration=s14)
        self.move("onnx_bug", "bob", "in_progress")
        self.day(-20, 16)
        self.move("calibrate", "alice", "in_review")
        self.move("fnr_card", "alice", "in_progress")
        self.day(-19, 14)
        self.move("calibrate", "bob", "done")
        self.move("onnx_bug", "bob", "in_review")
        self.day(-18, 10)
        self.move("onnx_bug", "carol", "done")
        self.move("drift", "bob", "in_progress")
        self.say(
            "drift",
            "bob",
            "@alice the loader is unchanged; the supplier switched labs in March. I asked "
            "for their method sheet. Meanwhile the contract change caps the worst inputs.",
        )
        self.day(-17, 11)
        self.say(
            "latency",
            "carol",
            "0.3 ms with ONNX Runtime against 0.4 ms with scikit-learn at batch 1. Not "
            "worth a second runtime; closing. @bob FYI.",
        )
        self.move("latency", "carol", "wont_do")
        self.day(-16, 15)
        self.move("fnr_card", "alice", "in_review")
        self.move("threshold", "alice", "in_review")
        self.day(-15, 10)
        self.move("fnr_card", "carol", "done")
        self.day(-14, 17)
        self.say(
            "threshold",
            "carol",
            "Signed off with Dr Moreau: score 0.31, recall 0.981 on the hold-out. "
            "@alice please put it in the card.",
        )
        self.move("threshold", "alice", "done")
        self.day(-11, 16)
        s14 = update_iteration_notes(
            actor=self.users["alice"],
            iteration=s14,
            review_notes=REVIEW_NOTES,
            retro_notes=RETRO_NOTES,
            expected_revision=s14.revision,
        )
        self.day(-10, 9)
        update_iteration_notes(
            actor=self.users["carol"],
            iteration=s14,
            review_notes=s14.review_notes,
            retro_notes=RETRO_NOTES + RETRO_ADDITION,
            expected_revision=s14.revision,
        )

    def sprint_15(self, risk: Team) -> None:
        self.day(-10, 9, 30)
        s15 = create_iteration(
            actor=self.users["alice"],
            team=risk,
            name=RUNNING,
            start_date=self.s15_start,
            end_date=self.s15_start + timedelta(days=13),
        )
        update_item(actor=self.users["alice"], item=self.items["drift"], iteration=s15)
        for key, spec in SPRINT_15.items():
            self.file(key, spec, status="todo", iteration=s15)
        self.day(-9, 10)
        self.move("retrain", "alice", "in_progress")
        self.move("canary", "bob", "in_progress")
        self.say(
            "canary",
            "carol",
            "@bob please add the rollback step and who signs off each stage; I will "
            "approve the 5 % stage once the plan names them.",
        )
        self.day(-8, 14)
        self.move("shap", "alice", "in_progress")
        self.day(-7, 11)
        self.move("drift", "bob", "in_review")
        self.say(
            "drift",
            "bob",
            "@alice the lab's method sheet explains it: they now report flavanoids per "
            "litre, not per 100 mL of extract. The loader converts it back; see the review.",
        )
        self.day(-6, 10)
        self.move("drift", "alice", "done")
        self.move("shap", "alice", "in_review")
        self.day(-5, 15)
        self.move("shap", "bob", "done")
        self.day(-4, 16)
        self.move("retrain", "alice", "in_review")
        self.say(
            "retrain",
            "bob",
            "@alice CV accuracy 0.97 ± 0.02 across folds, class 3 recall 0.94 ± 0.05. "
            "Happy to approve once the card shows the spread.",
        )
        self.day(-2, 9)
        self.file("api_bug", API_BUG, status="todo", iteration=s15)
        self.day(-1, 10)
        self.move("api_bug", "bob", "in_progress")

    def search_team(self) -> None:
        self.day(-20, 11)
        for key in ("ndcg", "query_length"):
            self.file(key, LATER[key], status="backlog", iteration=None)
        self.day(-19, 9)
        self.move("ndcg", "dmitri", "todo")
        self.day(-15, 14)
        self.move("ndcg", "dmitri", "in_progress")
        self.say(
            "ndcg",
            "dmitri",
            "@admin could I get last quarter's query logs? Half the long-tail queries have "
            "no click features at all, which would explain most of the gap.",
        )


def _targets(about: tuple[str, ...]) -> list[models.Model]:
    """The demo models and versions an item is about (those the registry seeded)."""
    registered, versions = linkable_model("model"), linkable_model("version")
    assert registered is not None and versions is not None
    found: list[models.Model] = []
    for name in about:
        model, _, version = name.partition(" ")
        if version:
            target = versions._default_manager.filter(model__name=model, version=version).first()
        else:
            target = registered._default_manager.filter(name=model).first()
        if target is not None:
            found.append(target)
    return found
