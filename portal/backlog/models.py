"""Backlog items, their links to what they are about, comments, labels and iterations."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse

from portal.backlog.choices import CLOSED, TRANSITIONS, Discipline, Kind, Priority, Status
from portal.models import Team


class Label(models.Model):
    name = models.CharField(max_length=40, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Iteration(models.Model):
    """A named stretch of work of one team, with its review and retrospective notes."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="iterations")
    name = models.CharField(max_length=100)
    start_date = models.DateField()
    end_date = models.DateField()
    review_notes = models.TextField(blank=True)
    review_notes_html = models.TextField(blank=True, editable=False)
    retro_notes = models.TextField(blank=True)
    retro_notes_html = models.TextField(blank=True, editable=False)
    revision = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-start_date", "name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="unique_iteration_per_team"),
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="iteration_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("backlog:iteration", args=[self.pk])


class BacklogItem(models.Model):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="backlog_items")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    description_html = models.TextField(blank=True, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.TASK)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.BACKLOG)
    priority = models.CharField(max_length=2, choices=Priority.choices, default=Priority.P2)
    discipline = models.CharField(
        max_length=20, choices=Discipline.choices, default=Discipline.BOTH
    )
    assignees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="assigned_items", blank=True
    )
    # None when the system filed it (a drift alert, a failed gate).
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_items",
    )
    labels = models.ManyToManyField(Label, related_name="items", blank=True)
    iteration = models.ForeignKey(
        Iteration, null=True, blank=True, on_delete=models.SET_NULL, related_name="items"
    )
    due_date = models.DateField(null=True, blank=True)
    # Manual order inside a status column: lower comes first.
    position = models.FloatField(default=0)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "pk"]
        indexes = [
            models.Index(fields=["status", "position"], name="backlog_item_column"),
            models.Index(fields=["team", "status"], name="backlog_item_team_status"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("backlog:item", args=[self.pk])

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED

    def next_statuses(self) -> tuple[str, ...]:
        """The statuses this item may move to."""
        return TRANSITIONS[self.status]

    def can_move_to(self, status: str) -> bool:
        return status in TRANSITIONS[self.status]


class ItemLink(models.Model):
    """What an item is about: a model, a version, a run, a release, an alert…"""

    item = models.ForeignKey(BacklogItem, on_delete=models.CASCADE, related_name="links")
    target_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    target_id = models.CharField(max_length=64)
    target = GenericForeignKey("target_type", "target_id")
    # The target's name when the link was made: an item keeps saying what it was about.
    target_repr = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "target_type", "target_id"], name="unique_link_per_item"
            )
        ]
        indexes = [models.Index(fields=["target_type", "target_id"], name="backlog_link_target")]

    def __str__(self) -> str:
        return self.target_repr


class Comment(models.Model):
    item = models.ForeignKey(BacklogItem, on_delete=models.CASCADE, related_name="comments")
    # None: written by Handoff itself (a later drift report on an open alert).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField()
    body_html = models.TextField(editable=False)
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Comment {self.pk} on #{self.item_id}"


def as_dict(item: BacklogItem) -> dict[str, Any]:
    """The fields an audit event keeps of an item."""
    return {
        "title": item.title,
        "kind": item.kind,
        "status": item.status,
        "priority": item.priority,
        "discipline": item.discipline,
        "iteration": item.iteration_id,
        "due_date": item.due_date.isoformat() if item.due_date else None,
    }
