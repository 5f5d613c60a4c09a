"""The demo backlog: items about the demo models, worked through two iterations.

Everything goes through the services (create_item, move_item, add_comment, …), so the audit
log, the notifications and the burndowns are the real thing. The history spans the last four
weeks: audit events cannot be back-dated after the fact, so the services run on a demo clock
(``_clock``) that says when each step happened. Seeding again changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import time_machine
from django.db import models
from django.utils import timezone

from portal.backlog.links import linkable_model
from portal.backlog.models import BacklogItem, Iteration
from portal.backlog.services.comments import add_comment
from portal.backlog.services.items import create_item, move_item, update_item
from portal.backlog.services.iterations import create_iteration, update_iteration_notes
from portal.models import Team

FINISHED = "Sprint 14"
RUNNING = "Sprint 15"
FLOW = ("todo", "in_progress", "in_review", "done")  # the way an item normally goes


@dataclass(frozen=True)
class Spec:
    """An item as the demo files it."""

    title: str
    kind: str
    description: str
    reporter: str
    assignees: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    about: tuple[str, ...] = ()  # "model-name" or "model-name version"
    priority: str = "P2"
    discipline: str = "both"
    team: str = "Risk Modelling"


SPRINT_14 = {
    "calibrate": Spec(
        "Recalibrate breast-cancer-screening probabilities with isotonic regression",
        "experiment",
        "The reliability curve of 1.1.0 sits above the diagonal between 0.6 and 0.9, so "
        "clinicians read the scores as more certain than they are.\n\n"
        "- fit isotonic and Platt scaling on the validation fold\n"
        "- compare Brier score and ECE; keep recall at the 0.5 threshold\n",
        "alice",
        ("alice",),
        ("calibration", "screening"),
        ("breast-cancer-screening 1.1.0",),
        "P1",
        "data_science",
    ),
    "contract": Spec(
        "Refuse wine-cultivar requests with proline outside the training range",
        "task",
        "Proline above 1,700 mg/L never occurs in the training data; the model answers "
        "anyway. Add `minimum`/`maximum` to the input contract so the API returns a 400 "
        "naming the field.",
        "bob",
        ("bob",),
        ("contract", "wine"),
        ("wine-cultivar 1.1.0",),
        "P1",
        "engineering",
    ),
    "fnr_card": Spec(
        "Document the false-negative rate by age band in the screening model card",
        "story",
        "Reviewers asked how recall varies across patient age. Add a table to the card's "
        "*Evaluation* section and a sentence on the smallest band's sample size.",
        "carol",
        ("alice",),
        ("model-card", "screening"),
        ("breast-cancer-screening 2.0.0",),
        "P2",
        "data_science",
    ),
    "drift": Spec(
        "Investigate the flavanoids shift in wine-cultivar inputs",
        "data_issue",
        "Since the March batch the mean of `flavanoids` is 0.4 higher and the PSI is 0.27. "
        "Find out whether it is the supplier, the lab or our loader before retraining.",
        "alice",
        ("alice", "bob"),
        ("drift", "wine"),
        ("wine-cultivar",),
        "P1",
        "both",
    ),
    "latency": Spec(
        "Benchmark ONNX Runtime against scikit-learn for wine-cultivar",
        "experiment",
        "Is serving the ONNX artifact faster than the pickled forest at batch sizes 1, 32 "
        "and 512? If it is not, we keep one runtime less.",
        "carol",
        ("carol",),
        ("performance", "onnx"),
        ("wine-cultivar 1.1.0",),
        "P3",
        "engineering",
    ),
    "threshold": Spec(
        "Agree the screening threshold with the clinical team (recall ≥ 0.98)",
        "story",
        "Pick the operating point for 2.0.0 together with the clinicians: recall of at "
        "least 0.98 on the hold-out set, and the precision that costs.",
        "carol",
        ("alice", "carol"),
        ("screening", "threshold"),
        ("breast-cancer-screening 2.0.0",),
        "P1",
        "data_science",
    ),
}
ONNX_BUG = Spec(
    "ONNX export of breast-cancer-screening drops the class labels",
    "bug",
    "`skl2onnx` writes `output_label` as int64 0/1; the card says `benign`/`malignant`. "
    "Map the labels in the converter options and check the artifact's signature.",
    "bob",
    ("bob",),
    ("onnx", "screening"),
    ("breast-cancer-screening 2.0.0",),
    "P1",
    "engineering",
)
SPRINT_15 = {
    "retrain": Spec(
        "Retrain wine-cultivar with stratified 5-fold cross-validation",
        "experiment",
        "The single split puts only 9 samples of class 3 in the test fold. Use stratified "
        "5-fold CV for model selection and report the spread, not one number.",
        "alice",
        ("alice",),
        ("wine", "evaluation"),
        ("wine-cultivar 1.1.0",),
        "P1",
        "data_science",
    ),
    "canary": Spec(
        "Plan the canary rollout of breast-cancer-screening 2.0.0",
        "story",
        "5 % of traffic for a week, then 50 %, watching recall on confirmed outcomes. "
        "Write down the rollback step and who signs off each stage.",
        "bob",
        ("bob", "carol"),
        ("release", "screening"),
        ("breast-cancer-screening 2.0.0",),
        "P1",
        "engineering",
    ),
    "alert": Spec(
        "Alert when the screening service's p95 latency passes 50 ms",
        "task",
        "Add the alert rule and a runbook entry; page only during clinic hours.",
        "bob",
        ("bob",),
        ("monitoring",),
        ("breast-cancer-screening",),
        "P2",
        "engineering",
    ),
    "limits": Spec(
        "Write the limitations section of the wine-cultivar card",
        "task",
        "The training wines all come from one region of Italy; say so, and what the model "
        "does with wines from elsewhere (it still picks one of the three cultivars).",
        "alice",
        ("alice",),
        ("model-card", "wine"),
        ("wine-cultivar",),
        "P2",
        "data_science",
    ),
    "shap": Spec(
        "SHAP summary of the screening model's top features",
        "experiment",
        "Clinicians want to see which measurements drive a positive. A beeswarm plot of "
        "the 10 strongest features on the hold-out set, attached to the card.",
        "alice",
        ("alice",),
        ("explainability", "screening"),
        ("breast-cancer-screening 2.0.0",),
        "P2",
        "data_science",
    ),
}
API_BUG = Spec(
    "Screening API answers 500 when mean radius is missing",
    "bug",
    "A request without `mean radius` reaches the model and fails inside ONNX Runtime. "
    "The contract marks the field required, so the API should answer 400 first.",
    "carol",
    ("bob",),
    ("contract", "screening"),
    ("breast-cancer-screening 2.0.0",),
    "P0",
    "engineering",
)
LATER = {
    "lightgbm": Spec(
        "Try LightGBM as the wine-cultivar baseline",
        "experiment",
        "Gradient boosting may beat the forest on the minority cultivar. Timebox: two days.",
        "alice",
        (),
        ("wine", "idea"),
        ("wine-cultivar",),
        "P3",
        "data_science",
    ),
    "parquet": Spec(
        "Keep training snapshots as versioned Parquet files",
        "task",
        "Today each retrain reads the live CSV export, so last month's run cannot be "
        "repeated. Write a dated Parquet snapshot per run and record its hash on the version.",
        "bob",
        ("bob",),
        ("reproducibility",),
        (),
        "P2",
        "engineering",
    ),
    "ndcg": Spec(
        "NDCG@10 of search-ranker drops on long-tail queries",
        "bug",
        "Queries seen fewer than 5 times a month score 0.41 NDCG@10 against 0.63 overall. "
        "Check whether the click features are simply missing for them.",
        "dmitri",
        ("dmitri",),
        ("ranking", "long-tail"),
        ("search-ranker 1.0.0",),
        "P1",
        "data_science",
        "Search Relevance",
    ),
    "query_length": Spec(
        "Add query length as a search-ranker feature",
        "experiment",
        "Long queries are mostly product codes; a length feature may let the ranker "
        "prefer exact matches for them.",
        "dmitri",
        (),
        ("ranking", "features"),
        ("search-ranker",),
        "P3",
        "data_science",
        "Search Relevance",
    ),
}

REVIEW_NOTES = """\
## Delivered

- Isotonic calibration for breast-cancer-screening: ECE 0.061 → 0.018, recall unchanged.
- The wine-cultivar contract refuses out-of-range proline with a 400.
- The ONNX export keeps the class labels; the artifact's signature says so.
- Threshold agreed with the clinical team: recall ≥ 0.98 at a score of 0.31.

## Not delivered

- The flavanoids investigation needs the supplier's lab reports: carried into Sprint 15.
- ONNX Runtime benchmark dropped: 0.3 ms against 0.4 ms is not worth the extra runtime.
"""
RETRO_NOTES = """\
**Went well:** pairing on the contract change; the card table was reviewed the same day.

**To change:** data issues need the data owner in planning, not halfway through the sprint.
"""
RETRO_ADDITION = """
**Action:** Bob invites the supplier's data contact to the Sprint 15 planning.
"""


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
