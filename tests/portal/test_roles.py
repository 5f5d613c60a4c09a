"""Roles are groups created by a migration; services ask the helpers."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied

from portal.roles import Role, has_role, require_role, roles_of
from portal.services.accounts import create_user, grant_roles


@pytest.mark.django_db
def test_the_migration_creates_one_group_per_role() -> None:
    """Every role exists as a group on a fresh database."""
    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)


def test_a_person_may_hold_several_roles(alice: object, dana: object) -> None:
    """Roles combine; has_role answers for any of the roles asked."""
    grant_roles(user=alice, roles=[Role.ENGINEER], actor=None)
    assert roles_of(alice) == {Role.DATA_SCIENTIST, Role.ENGINEER}
    assert has_role(alice, Role.APPROVER, Role.ENGINEER)
    assert not has_role(dana, Role.DATA_SCIENTIST)


def test_require_role_names_the_roles_that_may_act(victor: object) -> None:
    """The refusal says who may do it."""
    with pytest.raises(PermissionDenied, match="Data scientist or Engineer may create a model"):
        require_role(victor, Role.DATA_SCIENTIST, Role.ENGINEER, action="create a model")


@pytest.mark.django_db
def test_superusers_hold_every_role_and_inactive_people_none() -> None:
    """An admin passes every check; a deactivated account passes none."""
    root = create_user(username="root", password="x-root-pass-1")
    root.is_superuser = True
    assert has_role(root, Role.APPROVER)
    gone = create_user(username="gone", password="x-gone-pass-1", roles=[Role.APPROVER])
    gone.is_active = False
    assert not has_role(gone, Role.APPROVER)


def test_anonymous_people_hold_no_role() -> None:
    """An anonymous user has no roles and fails every check."""
    from django.contrib.auth.models import AnonymousUser

    assert roles_of(AnonymousUser()) == frozenset()
    assert not has_role(AnonymousUser(), Role.VIEWER)
