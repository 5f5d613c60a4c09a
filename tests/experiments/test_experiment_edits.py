"""Changing an experiment after it was created: its description, model and which way each
metric is better, through the service, the API and the compare page."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from portal.models import AuditEvent
from registry.experiments.models import Experiment
from registry.experiments.services.experiments import set_direction, update_experiment
from registry.services.models import create_model


def test_an_update_changes_only_what_is_given_and_is_audited(alice: Any, sweep: Any) -> None:
    update_experiment(
        actor=alice, experiment=sweep, description="Now with depth", metric_directions={}
    )

    sweep.refresh_from_db()
    assert (sweep.description, sweep.metric_directions) == ("Now with depth", {})
    event = AuditEvent.objects.get(verb="experiment.updated")
    assert event.before == {"description": "", "metric_directions": {"loss": "min"}}
    assert event.after == {"description": "Now with depth", "metric_directions": {}}


def test_an_update_that_changes_nothing_records_nothing(alice: Any, sweep: Any) -> None:
    update_experiment(actor=alice, experiment=sweep, metric_directions={"loss": "min"})

    assert not AuditEvent.objects.filter(verb="experiment.updated").exists()


def test_refusals_leave_the_experiment_as_it_was(
    alice: Any, charlie: Any, search_team: Any, sweep: Any
) -> None:
    ranker = create_model(actor=charlie, name="ranker", title="Ranker", team=search_team)

    with pytest.raises(ValidationError) as other_team:
        update_experiment(actor=alice, experiment=sweep, model=ranker)
    with pytest.raises(ValidationError) as bad_direction:
        set_direction(actor=alice, experiment=sweep, key="loss", direction="up")
    with pytest.raises(PermissionDenied):
        set_direction(actor=charlie, experiment=sweep, key="loss", direction="max")

    assert "another team" in other_team.value.message_dict["model"][0]
    assert "'up' is not one of max, min" in bad_direction.value.message_dict["metric_directions"][0]
    sweep.refresh_from_db()
    assert (sweep.model, sweep.metric_directions) == (None, {"loss": "min"})


def test_the_api_patches_directions_and_refuses_what_it_may_not_set(
    api_for: Any, alice: Any, victor: Any, sweep: Any
) -> None:
    url = f"/api/v1/experiments/{sweep.pk}/"

    patched = api_for(alice).patch(url, {"metric_directions": {"auc": "max"}}, format="json")
    renamed = api_for(alice).patch(url, {"name": "other"}, format="json")
    viewer = api_for(victor).patch(url, {"description": "x"}, format="json")
    put = api_for(alice).put(url, {"description": "x"}, format="json")

    assert patched.status_code == 200 and patched.json()["metric_directions"] == {"auc": "max"}
    assert renamed.status_code == 400 and renamed.json()["errors"]["name"]
    assert viewer.status_code == 403
    assert put.status_code == 405
    assert Experiment.objects.get(pk=sweep.pk).name == "churn-sweep"


def test_the_compare_page_flips_a_metrics_direction_and_the_best_run_follows(
    client_for: Any, alice: Any, sweep: Any, make_runs: Any
) -> None:
    runs = make_runs(2)
    page = f"/experiments/{sweep.pk}/compare/?runs={runs[0].pk},{runs[1].pk}"
    client = client_for(alice)
    before = client.get(page)
    [loss] = [row for row in before.context["metric_rows"] if row.key == "loss"]
    assert loss.direction == "min" and "make higher better" in before.content.decode()

    response = client.post(
        f"/experiments/{sweep.pk}/direction/",
        {"key": "loss", "direction": "max", "next": page},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == page
    [loss_after] = [row for row in response.context["metric_rows"] if row.key == "loss"]
    assert loss_after.direction == "max"
    assert [best for _, best in loss_after.cells] == [not b for _, b in loss.cells]
    assert "loss: higher is better now" in response.content.decode()


def test_flipping_is_for_the_team_and_never_follows_a_foreign_next(
    client_for: Any, alice: Any, charlie: Any, sweep: Any
) -> None:
    url = f"/experiments/{sweep.pk}/direction/"

    outsider = client_for(charlie).post(url, {"key": "loss", "direction": "max"})
    away = client_for(alice).post(
        url, {"key": "loss", "direction": "max", "next": "https://evil.example/"}
    )
    bad = client_for(alice).post(url, {"key": "bad key!", "direction": "max"}, follow=True)

    assert outsider.status_code == 403
    assert away.status_code == 302 and away["Location"] == f"/experiments/{sweep.pk}/"
    assert "is not 1-250 letters" in bad.content.decode()
    assert Experiment.objects.get(pk=sweep.pk).metric_directions == {"loss": "max"}
