"""Demo data for `make demo`, built through the services so it obeys the same rules."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from portal.models import Team
from portal.roles import Role
from portal.services.accounts import add_team_member, create_team, create_user

# Local demo logins only: `make demo` prints them, and the demo runs with DEBUG on.
DEMO_PEOPLE = [
    ("admin", "handoff-admin", "Ada", "Admin", [Role.DATA_SCIENTIST, Role.ENGINEER, Role.APPROVER]),
    ("alice", "handoff-alice", "Alice", "Nakamura", [Role.DATA_SCIENTIST]),
    ("bob", "handoff-bob", "Bob", "Okafor", [Role.ENGINEER]),
    ("carol", "handoff-carol", "Carol", "Lindqvist", [Role.APPROVER, Role.ENGINEER]),
    ("victor", "handoff-victor", "Victor", "Huang", [Role.VIEWER]),
    ("dmitri", "handoff-dmitri", "Dmitri", "Petrov", [Role.DATA_SCIENTIST]),
]
DEMO_TEAMS = {
    "Risk Modelling": (["alice", "bob", "carol", "admin"], "Credit and fraud risk models."),
    "Search Relevance": (["dmitri", "admin"], "Ranking and query understanding."),
}


@transaction.atomic
def seed() -> list[tuple[str, str, str]]:
    users = {}
    User = get_user_model()
    for username, password, first, last, roles in DEMO_PEOPLE:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = create_user(
                username=username,
                password=password,
                roles=roles,
                first_name=first,
                last_name=last,
                email=f"{username}@handoff.example",
            )
            if username == "admin":
                user.is_staff = user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
        users[username] = user
    for name, (members, description) in DEMO_TEAMS.items():
        team = Team.objects.filter(name=name).first()
        if team is None:
            team = create_team(name=name, members=[users[m] for m in members])
            team.description = description
            team.save(update_fields=["description"])
        for member in members:
            if not team.has_member(users[member]):
                add_team_member(team=team, user=users[member])
    from registry.demo import seed_registry

    seed_registry(users)
    from portal.backlog.demo import seed_backlog

    seed_backlog(users)
    from registry.experiments.demo import seed_experiments

    seed_experiments(users)
    from registry.mlflow_api.demo import seed_mlflow

    seed_mlflow(users)
    from feedback.demo import seed_feedback

    seed_feedback(users)
    from registry.evaluation.demo import seed_evaluation

    seed_evaluation(users)
    from registry.monitoring.demo import seed_monitoring

    seed_monitoring(users)
    from registry.releases.demo import seed_releases

    seed_releases(users)
    return [
        (username, password, ", ".join(str(r) for r in roles))
        for username, password, _, _, roles in DEMO_PEOPLE
    ]
