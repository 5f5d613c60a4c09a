"""The backlog's fixed vocabularies, and the workflow an item's status follows."""

from __future__ import annotations

from django.db import models


class Kind(models.TextChoices):
    STORY = "story", "Story"
    TASK = "task", "Task"
    BUG = "bug", "Bug"
    EXPERIMENT = "experiment", "Experiment"
    DATA_ISSUE = "data_issue", "Data issue"
    INCIDENT = "incident", "Incident"
    DRIFT_ALERT = "drift_alert", "Drift alert"
    FEEDBACK = "feedback", "Feedback"


class Status(models.TextChoices):
    BACKLOG = "backlog", "Backlog"
    TODO = "todo", "To do"
    IN_PROGRESS = "in_progress", "In progress"
    IN_REVIEW = "in_review", "In review"
    DONE = "done", "Done"
    WONT_DO = "wont_do", "Won't do"


class Priority(models.TextChoices):
    P0 = "P0", "P0 · drop everything"
    P1 = "P1", "P1 · high"
    P2 = "P2", "P2 · normal"
    P3 = "P3", "P3 · low"


class Discipline(models.TextChoices):
    DATA_SCIENCE = "data_science", "Data science"
    ENGINEERING = "engineering", "Engineering"
    BOTH = "both", "Both"


# Where an item may go from each status. Done and won't do are closed: reopening goes back to
# to-do (done) or to the backlog (won't do).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.BACKLOG: (Status.TODO, Status.WONT_DO),
    Status.TODO: (Status.IN_PROGRESS, Status.BACKLOG, Status.WONT_DO),
    Status.IN_PROGRESS: (Status.IN_REVIEW, Status.TODO, Status.WONT_DO),
    Status.IN_REVIEW: (Status.DONE, Status.IN_PROGRESS, Status.WONT_DO),
    Status.DONE: (Status.TODO,),
    Status.WONT_DO: (Status.BACKLOG,),
}
CLOSED = frozenset({Status.DONE, Status.WONT_DO})
OPEN = tuple(status for status in Status if status not in CLOSED)
