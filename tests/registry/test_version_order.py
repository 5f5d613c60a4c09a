"""Version order: sort keys follow semver precedence for any version, on any collation."""

import importlib
from functools import cmp_to_key
from typing import Any

import pytest
import semver
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models.functions import Collate
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.models import ModelVersion
from registry.services.versions import MAX_VERSION_LENGTH, create_version, semver_sort_key

MIGRATION = importlib.import_module("registry.migrations.0002_version_order_and_releases")
SORT_KEY_LENGTH = ModelVersion._meta.get_field("sort_key").max_length
# Texts whose semver order differs from their text order, under C or under a locale collation.
TRICKY = [
    "0.0.0-0",
    "0.0.0-0.0",
    "0.0.0-00a",
    "1.0.0-Beta",
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-alpha-1",
    "1.0.0-alpha0",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "1.0.1+build.5",
    "1.2.0",
    "1.9.0",
    "1.10.0",
    "9999999999.0.0",
    "10000000000.0.0",
    "10000000000.0.1-rc.99999999999",
    "10000000000.0.1-rc.100000000000",
    "10000000000.0.1",
]
# 64 characters of one-character identifiers: the longest key a stored version can have.
WIDEST = "0.0.0-" + ".".join(["a"] * 28) + ".ab"


def semver_order(texts: list[str]) -> list[str]:
    """``texts`` sorted by the semver package's own precedence."""
    compare = cmp_to_key(lambda a, b: semver.Version.parse(a).compare(b))
    return sorted(texts, key=compare)


def key_of(text: str) -> str:
    return semver_sort_key(semver.Version.parse(text))


def sign(number: int) -> int:
    return (number > 0) - (number < 0)


ALPHANUMERIC = "0123456789ABCZabcyz-"
numbers = st.one_of(st.integers(0, 12), st.integers(0, 10**40)).map(str)
words = st.one_of(
    st.sampled_from(["alpha", "beta", "rc", "Alpha", "a", "aa", "a-1", "-", "0a", "z"]),
    st.text(ALPHANUMERIC, min_size=1, max_size=6),
).filter(lambda word: not word.isdigit())
prereleases = st.lists(st.one_of(numbers, words), min_size=1, max_size=5).map(".".join)
builds = st.lists(st.text(ALPHANUMERIC, min_size=1, max_size=4), min_size=1, max_size=3)


@st.composite
def versions(draw: Any) -> semver.Version:
    """A random valid semver: big numbers, mixed pre-release identifiers, build metadata."""
    text = ".".join(draw(numbers) for _ in range(3))
    if draw(st.booleans()):
        text += "-" + draw(prereleases)
    if draw(st.booleans()):
        text += "+" + ".".join(draw(builds))
    return semver.Version.parse(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(versions(), min_size=2, max_size=12))
def test_sorting_by_key_equals_sorting_by_semver_precedence(given_versions: Any) -> None:
    """Any versions sort the same by key as by semver.Version.compare, ties included."""
    by_semver = sorted(given_versions, key=cmp_to_key(semver.Version.compare))
    by_key = sorted(given_versions, key=semver_sort_key)
    assert [str(v) for v in by_key] == [str(v) for v in by_semver]
    for a in given_versions:
        for b in given_versions:
            key_a, key_b = semver_sort_key(a), semver_sort_key(b)
            assert sign((key_a > key_b) - (key_a < key_b)) == sign(a.compare(b)), (a, b)


@given(versions())
def test_a_key_is_lowercase_hex(version: semver.Version) -> None:
    """Only 0-9 and a-f: characters every collation orders the same way."""
    assert set(semver_sort_key(version)) <= set("0123456789abcdef")


def test_the_tricky_versions_sort_by_precedence() -> None:
    """Long numbers, case, hyphens and dotted identifiers all follow semver."""
    assert sorted(reversed(TRICKY), key=key_of) == semver_order(TRICKY) == TRICKY


def test_build_metadata_does_not_change_the_key() -> None:
    """1.0.0+a and 1.0.0+b have the same precedence, so the same key."""
    assert key_of("1.0.0+a") == key_of("1.0.0+b.7") == key_of("1.0.0")
    assert key_of("1.0.0-rc.1+a") == key_of("1.0.0-rc.1")


@pytest.mark.parametrize(
    "text",
    [
        WIDEST,
        "0.0.0-" + ".".join(["0"] * 28) + ".10",
        "0.0.0-" + ".".join(["0", "a"] * 14) + ".0a",
        "0.0.0+" + "b" * 58,
        "1" * 20 + "." + "2" * 20 + "." + "3" * 22,
        "0.0.0-" + "9" * 58,
    ],
)
def test_the_key_of_any_version_that_fits_the_column_fits_its_column(text: str) -> None:
    """The widest keys (many one-character identifiers) of 64-character versions fit."""
    assert len(text) == MAX_VERSION_LENGTH
    assert len(key_of(text)) <= SORT_KEY_LENGTH


def test_a_version_longer_than_the_column_is_refused(alice: Any, fraud_model: Any) -> None:
    """Over 64 characters: a ValidationError naming version, and nothing stored."""
    text = "1.0.0-" + "a" * 59
    with pytest.raises(ValidationError) as caught:
        create_version(actor=alice, model=fraud_model, version=text)
    assert "at most 64 characters" in caught.value.message_dict["version"][0]
    assert not ModelVersion.objects.exists()


def test_a_version_longer_than_the_column_is_a_400_in_the_api(
    client_for: Any, alice: Any, fraud_model: Any
) -> None:
    """The API names the field too."""
    response = client_for(alice).post(
        "/api/v1/models/fraud-score/versions/",
        {"version": "1.0.0-" + "a" * 59},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "version" in response.json()["errors"]


def test_the_database_orders_registered_versions_by_semver(alice: Any, fraud_model: Any) -> None:
    """order_by("-sort_key") is semver order, highest first, on SQLite and PostgreSQL."""
    for text in [*reversed(TRICKY), WIDEST]:
        create_version(actor=alice, model=fraud_model, version=text)
    stored = list(ModelVersion.objects.order_by("-sort_key").values_list("version", flat=True))
    assert stored == list(reversed(semver_order([*TRICKY, WIDEST])))


def _locale_collation() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT collname FROM pg_collation WHERE collname IN "
            "('en-US-x-icu', 'en_US.utf8', 'en_US') ORDER BY collname DESC LIMIT 1"
        )
        row = cursor.fetchone()
    if row is None:
        pytest.fail("PostgreSQL has no en_US collation (ICU or libc) to test against")
    return str(row[0])


@pytest.mark.postgres
def test_a_locale_collation_orders_the_keys_by_semver_too(alice: Any, fraud_model: Any) -> None:
    """en_US ignores punctuation and case; the hex keys still sort by precedence."""
    for text in TRICKY:
        create_version(actor=alice, model=fraud_model, version=text)
    collated = ModelVersion.objects.order_by(Collate("sort_key", _locale_collation()).desc())
    assert list(collated.values_list("version", flat=True)) == list(reversed(TRICKY))


def test_the_migration_recomputes_every_key(alice: Any, fraud_model: Any) -> None:
    """Rows keyed the old way get the new key; their updated_at is left alone."""
    for text in ("1.10.0", "1.9.0", "10000000000.0.0", "1.0.0-rc.1"):
        create_version(actor=alice, model=fraud_model, version=text)
    for row in ModelVersion.objects.all():
        ModelVersion.objects.filter(pk=row.pk).update(sort_key=f"old-{row.number}")
    updated = dict(ModelVersion.objects.values_list("pk", "updated_at"))
    MIGRATION.recompute_keys_and_releases(apps, None)
    for row in ModelVersion.objects.all():
        assert row.sort_key == key_of(row.version)
        assert row.updated_at == updated[row.pk]


def test_the_migration_keeps_older_build_metadata_twins_apart_and_in_order(
    alice: Any, fraud_model: Any
) -> None:
    """Twins stored before the constraint get distinct keys next to each other."""
    for text in ("0.9.0", "1.0.0+a", "1.0.1"):
        create_version(actor=alice, model=fraud_model, version=text)
    ModelVersion.objects.create(
        model=fraud_model, version="1.0.0+b", number=9, sort_key="old", created_by=alice
    )
    MIGRATION.recompute_keys_and_releases(apps, None)
    stored = list(ModelVersion.objects.order_by("-sort_key").values_list("version", flat=True))
    assert stored == ["1.0.1", "1.0.0+b", "1.0.0+a", "0.9.0"]
    assert ModelVersion.objects.get(version="1.0.0+a").sort_key == key_of("1.0.0")


def test_the_migration_encodes_like_the_service() -> None:
    """The migration's frozen copy of the encoding agrees with the service today."""
    for text in TRICKY:
        assert MIGRATION._sort_key(text) == key_of(text)
