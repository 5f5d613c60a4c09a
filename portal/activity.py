"""Audit events as sentences people read: "Bob moved fraud-score 2.0.0 to candidate".

Every verb's phrase is written here once; the home page and the model page both show events
through ``describe``. The link to an event's target comes from the app that owns the target:
its ``queries.py`` may define ``activity_links(targets)``, so the portal names (and imports)
no app of ours.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import import_module
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Prefetch, QuerySet
from django.db.models.fields.json import KT
from django.utils.html import format_html
from django.utils.module_loading import module_has_submodule
from django.utils.safestring import SafeString

from portal.backlog.choices import OPEN, Status
from portal.backlog.models import BacklogItem, Comment
from portal.models import AuditEvent, Team
from portal.people import Person

# What each verb says after the actor's name. {target} is the event's target_repr (the
# object as it was named then); every other name is a key of the event's ``after`` (DETAILS).
PHRASES: dict[str, str] = {
    "model.created": "registered {target}",
    "model.updated": "edited {target}",
    "model.deleted": "deleted {target}",
    "version.created": "registered {target}",
    "version.status_changed": "moved {target} to {status}",
    "version.contract_updated": "changed the contract of {target}",
    "version.contract_derived": "drafted the contract of {target} from its artifact",
    "version.notes_updated": "edited the release notes of {target}",
    "version.deleted": "deleted {target}",
    "card.updated": "edited the {target}",
    "artifact.uploaded": "uploaded the {target}",
    "artifact.validated": "validated the {target}",
    "artifact.rejected": "rejected the {target}",
    "artifact.validation_failed": "could not validate the {target}",
    "artifact.validation_cancelled": "stopped validating the {target}",
    "artifact.validation_cancel_requested": "asked to stop validating the {target}",
    "version.input_mapping_changed": "changed how {target} reads its inputs",
    "dataset.created": "uploaded the dataset {target}",
    "dataset.deleted": "deleted the dataset {target}",
    "dataset.profile_failed": "could not profile the dataset {target}",
    "dataset.profile_cancelled": "stopped profiling the dataset {target}",
    "dataset.profile_cancel_requested": "asked to stop profiling the dataset {target}",
    "evaluation.started": "started the {target}",
    "evaluation.failed": "could not finish the {target}",
    "evaluation.cancelled": "stopped the {target}",
    "evaluation.cancel_requested": "asked to stop the {target}",
    "gate.added": "added a quality gate for {target}",
    "gate.removed": "removed a quality gate of {target}",
    "gate.overridden": "overrode the failed quality gates of {target}",
    "contract.acknowledged": "acknowledged the breaking contract changes of {target}",
    "team.created": "created the team {target}",
    "team.updated": "edited the team {target}",
    "team.member_added": "added {member} to {target}",
    "team.members_changed": "changed who is in {target}",
    "roles.granted": "gave roles to {target}",
    "token.created": "created the API token {target}",
    "token.revoked": "revoked the API token {target}",
    "release.requested": "requested {target}",
    "release.approve": "approved {target}",
    "release.reject": "rejected {target}",
    "release.approved": "completed the approvals of {target}",
    "release.rejected": "closed {target} as rejected",
    "release.pending": "sent {target} back for approval",
    "release.approvals_dismissed": "dismissed the approvals of {target}",
    "release.cancelled": "cancelled {target}",
    "release.deploying": "started deploying {target}",
    "release.deployed": "deployed {target}",
    "release.failed": "could not deploy {target}",
    "release.step_promoted": "moved the canary {target} to its next traffic step",
    "release.rolled_back": "rolled back {target}",
    "release.check_overridden": "let a failing release check pass for {target}",
    "runbook.saved": "updated the runbook of {target}",
    "environment.saved": "changed the environment {target}",
}
# Keys of ``after`` that phrases name, read as text: never the whole snapshot (a contract).
DETAILS = ("status", "member")
# What an entry needs of an event (the actor's name comes from a join or from the caller).
EVENT_FIELDS = ("actor_id", "verb", "target_type_id", "target_id", "target_repr", "created_at")
SYSTEM_ACTOR = "Handoff"  # workers act for nobody: "Handoff validated the artifact of …"
# A teammate's API tokens are theirs alone, not team news.
PRIVATE_VERB_PREFIX = "token."
RECENT_LIMIT = 10
ASSIGNED_LIMIT = 50  # the home page's "Assigned to me" shows at most this many

Target = tuple[int, str]  # (content type id, target id), as an audit event names its target
LinkFinder = Callable[[set[Target]], Mapping[Target, str]]


@dataclass(frozen=True)
class Entry:
    """One event as a sentence, "{actor} {before}{target}{after}", the target linked to its page."""

    actor: str
    before: str
    target: str
    after: str
    url: str
    created_at: datetime

    @property
    def text(self) -> str:
        return f"{self.actor} {self.before}{self.target}{self.after}"

    @property
    def html(self) -> SafeString:
        if not self.url:  # a deleted object, or one without a page
            return format_html(
                "{} {}<em>{}</em>{}", self.actor, self.before, self.target, self.after
            )
        return format_html(
            '{} {}<a href="{}">{}</a>{}', self.actor, self.before, self.url, self.target, self.after
        )


def detail_columns() -> dict[str, Any]:
    """Annotations reading the ``after`` keys that phrases name (``after_status``, …)."""
    return {f"after_{key}": KT(f"after__{key}") for key in DETAILS}


def describe(event: AuditEvent, *, actor: str | None, url: str = "") -> Entry:
    """``event`` as a sentence; ``actor`` None is the system. Unknown verbs still read as words."""
    details = {key: _detail(event, key) for key in DETAILS}
    before, _, after = _phrase(event.verb, details).partition("{target}")
    return Entry(
        actor=actor or SYSTEM_ACTOR,
        before=before.format_map(details),
        target=event.target_repr or _unnamed(event.verb),
        after=after.format_map(details),
        url=url,
        created_at=event.created_at,
    )


def display_name(person: Any) -> str:
    """A person as others read them: their full name, else their username."""
    return person.get_full_name() or person.username


def _detail(event: AuditEvent, key: str) -> str:
    value = getattr(event, f"after_{key}", None)
    return "" if value is None else str(value).replace("_", " ")


def _phrase(verb: str, details: dict[str, str]) -> str:
    phrase = PHRASES.get(verb)
    # A detail the event lacks falls back to the generic phrase, never half a sentence.
    if phrase is None or any(f"{{{key}}}" in phrase and not details[key] for key in DETAILS):
        return _fallback(verb)
    return phrase


def _fallback(verb: str) -> str:
    """``deployment.approved`` → "approved {target}", ``status_changed`` → "changed the status
    of {target}"; any other verb still reads as words, never as a code."""
    _, _, action = verb.rpartition(".")
    words = "".join(c for c in action.replace("_", " ") if c.isalnum() or c == " ").split()
    if not words:
        return "changed {target}"
    if words[0].endswith("ed"):
        return f"{' '.join(words)} {{target}}"
    if words[-1].endswith("ed"):
        return f"{words[-1]} the {' '.join(words[:-1])} of {{target}}"
    return f"recorded “{' '.join(words)}” for {{target}}"


def _unnamed(verb: str) -> str:
    noun = verb.rpartition(".")[0].replace("_", " ")
    if not noun:
        return "something"
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


# Links --------------------------------------------------------------------------------------


def links_for(events: Iterable[AuditEvent]) -> dict[Target, str]:
    """The page of each event's target, asked of the app that owns it: a query per app."""
    wanted: dict[str, set[Target]] = defaultdict(set)
    for event in events:
        if event.target_type_id is not None and event.target_id:
            label = ContentType.objects.get_for_id(event.target_type_id).app_label
            wanted[label].add((event.target_type_id, event.target_id))
    links: dict[Target, str] = {}
    for label, targets in wanted.items():
        finder = _link_finder(label)
        if finder is not None:
            links.update(finder(targets))
    return links


@cache
def _link_finder(app_label: str) -> LinkFinder | None:
    """``<app>.queries.activity_links``, when the app has one (found like admin.py is)."""
    try:
        config = apps.get_app_config(app_label)
    except LookupError:  # a content type left behind by an app since removed
        return None
    if not module_has_submodule(config.module, "queries"):
        return None
    finder: LinkFinder | None = getattr(
        import_module(f"{config.name}.queries"), "activity_links", None
    )
    return finder


# The home page ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Home:
    """What the home page shows of a person's work: a few queries, however busy the teams."""

    teams: list[Team]  # with their members
    team_activity: list[Entry]  # what the other people in my teams did last
    my_activity: list[Entry]
    team_admins: list[Person]  # who can add a person in no team to one (else empty)
    assigned: list[tuple[str, list[BacklogItem]]]  # my open backlog items, (status label, items)
    mentions: list[Comment]  # the newest comments that mention me, with their item and author


def home_page(person: Person) -> Home:
    people = get_user_model().objects.only("username", "first_name", "last_name")
    teams = list(
        person.teams.prefetch_related(Prefetch("members", queryset=people.order_by("username")))
    )
    names: dict[int | None, str] = {
        m.pk: display_name(m) for team in teams for m in team.members.all()
    }
    names.pop(person.pk, None)
    theirs = people_events([pk for pk in names if pk is not None])
    mine = list(_events().filter(actor=person)[:RECENT_LIMIT])
    links = links_for([*theirs, *mine])
    return Home(
        teams=teams,
        team_activity=[_entry(event, names[event.actor_id], links) for event in theirs],
        my_activity=[_entry(event, "You", links) for event in mine],
        team_admins=[] if teams else team_admins(),
        assigned=assigned_to(person),
        mentions=mentions_of(person),
    )


def assigned_to(person: Person, limit: int = ASSIGNED_LIMIT) -> list[tuple[str, list[BacklogItem]]]:
    """My open backlog items grouped by status, in workflow order: one query."""
    items = list(
        BacklogItem.objects.filter(assignees=person, status__in=OPEN)
        .select_related("team")
        .only("title", "status", "priority", "team__name")
        .order_by("priority", "position", "pk")[:limit]
    )
    groups = [(Status(s).label, [item for item in items if item.status == s]) for s in OPEN]
    return [(label, found) for label, found in groups if found]


def mentions_of(person: Person, limit: int = RECENT_LIMIT) -> list[Comment]:
    """The newest comments that mention me, each with its item and author: one query."""
    return list(
        Comment.objects.filter(mentions=person)
        .select_related("item", "author")
        .only(
            "body",
            "created_at",
            "item__title",
            "author__username",
            "author__first_name",
            "author__last_name",
        )
        .order_by("-created_at", "-pk")[:limit]
    )


def people_events(actor_ids: Sequence[int], limit: int = RECENT_LIMIT) -> list[AuditEvent]:
    """The newest ``limit`` events of these people, their API tokens left out.

    A branch per person, each that person's newest ``limit``: PostgreSQL reads every branch
    from the (actor, -created_at, -id) index and merges them in order, so a team that acted a
    year ago costs the same as one busy this morning. (SQLite cannot limit the branches of a
    UNION; there, one IN query gives the same rows.)
    """
    events = _events().exclude(verb__startswith=PRIVATE_VERB_PREFIX)
    newest = ("-created_at", "-id")
    if len(actor_ids) <= 1 or not connection.features.supports_slicing_ordering_in_compound:
        return list(events.filter(actor_id__in=actor_ids).order_by(*newest)[:limit])
    first, *rest = [events.filter(actor_id=pk).order_by(*newest)[:limit] for pk in actor_ids]
    return list(first.union(*rest, all=True).order_by(*newest)[:limit])


def team_admins() -> list[Person]:
    """Who can add people to teams: staff who may change teams in the admin, superusers too."""
    admins = (
        get_user_model()
        .objects.with_perm(
            "portal.change_team", backend="django.contrib.auth.backends.ModelBackend"
        )
        .filter(is_staff=True)
    )  # the admin site is where teams are staffed
    return list(
        admins.only("username", "first_name", "last_name", "email").order_by(
            "first_name", "last_name", "username"
        )
    )


def _events() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.only(*EVENT_FIELDS).annotate(**detail_columns())


def _entry(event: AuditEvent, actor: str, links: Mapping[Target, str]) -> Entry:
    url = links.get((event.target_type_id, event.target_id), "") if event.target_type_id else ""
    return describe(event, actor=actor, url=url)
