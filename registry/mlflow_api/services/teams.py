"""Which team a new experiment or model belongs to when an MLflow client creates it.

MLflow has no teams. The tag ``handoff.team`` names one; without it, the person's only team.
Someone in several teams is asked to name one rather than have a guess made for them.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from portal.models import Team
from portal.people import Person

TEAM_TAG = "handoff.team"


def team_for(person: Person, tags: dict[str, str]) -> Team:
    teams = list(person.teams.order_by("slug"))
    named = tags.get(TEAM_TAG)
    if named:
        found = next((team for team in teams if team.slug == named), None)
        if found is None:
            raise ValidationError({TEAM_TAG: f"You are not a member of a team {named!r}."})
        return found
    if len(teams) == 1:
        return teams[0]
    if not teams:
        raise ValidationError({TEAM_TAG: "You belong to no team: ask an admin to add you."})
    slugs = ", ".join(team.slug for team in teams)
    raise ValidationError(
        {TEAM_TAG: f"You are in several teams ({slugs}): name one with the tag {TEAM_TAG}."}
    )
