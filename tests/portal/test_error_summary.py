"""A refused form opens with a summary of its errors, each linking to its field."""

from __future__ import annotations

import re
from typing import Any

from django.urls import reverse


def _summary(html: str) -> str:
    found = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert found, "no error summary on the page"
    return found.group(0)


def test_a_refused_model_form_lists_each_error_with_a_link_to_its_field(
    client_for: Any, alice: Any
) -> None:
    response = client_for(alice).post(
        reverse("registry:model-create"), {"name": "Bad Name!", "title": ""}
    )

    summary = _summary(response.content.decode())
    assert response.status_code == 200
    assert 'tabindex="-1"' in summary and 'role="alert"' in summary
    assert re.search(r"There are \d+ problems", summary)
    assert '<a href="#id_name">Name:' in summary
    assert '<a href="#id_title">Title: This field is required.' in summary


def test_a_failed_sign_in_says_so_at_the_top(client: Any, alice: Any) -> None:
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})

    summary = _summary(response.content.decode())
    assert "There is a problem" in summary
    assert "correct username and password" in summary


def test_a_page_without_errors_has_no_summary(client_for: Any, alice: Any) -> None:
    response = client_for(alice).get(reverse("registry:model-create"))

    assert "error-summary" not in response.content.decode()
    assert "data-guard-unsaved" in response.content.decode()
