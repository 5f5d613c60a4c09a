"""Error pages say how to get access and lead back to what the person was looking at."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from registry.services.models import create_model


@pytest.fixture
def fraud(alice: Any, risk_team: Any) -> Any:
    return create_model(actor=alice, name="fraud-score", title="Fraud", team=risk_team)


def test_a_403_names_who_can_grant_access_and_links_back(client_for, charlie, fraud) -> None:
    """An outsider on an edit page is sent back to the model, with an admin to ask."""
    User.objects.create_superuser("olga", "olga@example.com", "pw-olga-12345")

    response = client_for(charlie).get("/models/fraud-score/edit/")

    page = response.content.decode()
    assert response.status_code == 403
    assert "Only members of Risk Modelling" in page
    assert 'href="/models/fraud-score/"' in page
    assert 'href="mailto:olga@example.com"' in page


def test_the_back_link_prefers_the_page_the_person_came_from(client_for, charlie, fraud):
    """A same-site Referer wins; another site's is never used."""
    client = client_for(charlie)

    own = client.get("/models/fraud-score/edit/", HTTP_REFERER="http://testserver/models/?q=f")
    other = client.get("/models/fraud-score/edit/", HTTP_REFERER="https://evil.example/x")

    assert 'href="http://testserver/models/?q=f"' in own.content.decode()
    assert "evil.example" not in other.content.decode()
    assert 'href="/models/fraud-score/"' in other.content.decode()
