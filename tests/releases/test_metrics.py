"""Release transitions show on /metrics once they commit."""

from __future__ import annotations

from typing import Any

from prometheus_client import REGISTRY


def moved_to(state: str) -> float:
    return REGISTRY.get_sample_value("handoff_release_transitions_total", {"state": state}) or 0.0


def test_each_committed_transition_is_counted_by_state(
    make_release: Any, django_capture_on_commit_callbacks: Any
) -> None:
    before = {state: moved_to(state) for state in ("approved", "deployed")}
    with django_capture_on_commit_callbacks(execute=True):
        make_release(strategy="full")
    assert moved_to("approved") == before["approved"] + 1
    assert moved_to("deployed") == before["deployed"] + 1
