"""Promoting a finished run: the version, its card, the audit trail, and every refusal."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import include, path

from portal.models import AuditEvent
from portal.urls import urlpatterns as portal_urls
from registry.experiments.models import Promotion
from registry.experiments.reproduce import how_to_reproduce
from registry.experiments.services.experiments import create_experiment
from registry.experiments.services.promotion import promote_run
from registry.experiments.services.runs import create_run, end_run, log_batch
from registry.models import ModelVersion
from registry.services.models import create_model
from registry.services.versions import create_version

# The promote form's URLs, included the way the experiments pages will include them.
urlpatterns = [
    *portal_urls,
    path("experiments/", include("registry.experiments.promote_urls")),
]
pytestmark = pytest.mark.urls(__name__)
SHA = "ab" * 32


@pytest.fixture
def churn(alice: Any, risk_team: Any) -> Any:
    model = create_model(actor=alice, name="churn", title="Churn", team=risk_team)
    create_version(actor=alice, model=model, version="1.0.0")
    return model


@pytest.fixture
def trained(alice: Any, risk_team: Any, churn: Any) -> Any:
    """A finished run of an experiment on churn, with two metrics and two params."""
    experiment = create_experiment(
        actor=alice,
        team=risk_team,
        name="churn-gbm",
        model=churn,
        metric_directions={"val_loss": "min"},
    )
    run = create_run(
        actor=alice,
        experiment=experiment,
        name="lr=0.1",
        git_commit="0123abc",
        datasets=[{"name": "train.parquet", "sha256": SHA, "role": "training"}],
        python_version="3.11.9",
        packages="numpy==2.1.0\nscikit-learn==1.6.1\n",
    )
    points = [
        {"key": "val_loss", "value": v, "step": i} for i, v in enumerate([0.9, 0.3, 0.35])
    ] + [{"key": "accuracy", "value": v, "step": i} for i, v in enumerate([0.6, 0.91, 0.9])]
    log_batch(
        actor=alice,
        run=run,
        metrics=points,
        params=[{"key": "learning_rate", "value": 0.1}, {"key": "max_depth", "value": 3}],
    )
    return end_run(actor=alice, run=run)


def test_it_registers_the_version_with_the_runs_metrics_and_params(
    alice: Any, trained: Any, churn: Any
) -> None:
    """The card gets a table of final values (with min, max) and one of the params."""
    version = promote_run(actor=alice, run=trained, version="1.1.0")

    card = ModelVersion.objects.get(pk=version.pk).card
    assert version.model == churn
    assert "| accuracy | 0.9 | 2 | 0.6 | 0.91 | higher |" in card.metrics
    assert "| val\\_loss | 0.35 | 2 | 0.3 | 0.9 | lower |" in card.metrics
    assert "| learning\\_rate | 0.1 |" in card.quantitative_analyses
    assert "| max\\_depth | 3 |" in card.quantitative_analyses
    assert "<td>val_loss</td>" in card.html["metrics"]
    assert "Promoted from lr=0.1" in version.notes and "0123abc" in version.notes
    assert Promotion.objects.get(version=version).run == trained


def test_it_records_the_promotion_in_the_audit_log(alice: Any, trained: Any) -> None:
    version = promote_run(actor=alice, run=trained, version="1.1.0", notes="Best of the sweep.")

    event = AuditEvent.objects.get(verb="run.promoted")
    assert (event.target_id, event.actor) == (str(version.pk), alice)
    assert event.after == {
        "run": trained.pk,
        "params": 2,
        "metrics": {"accuracy": 0.9, "val_loss": 0.35},
    }
    assert version.notes.startswith("Best of the sweep.")


def test_a_promoted_version_says_how_to_reproduce_it(alice: Any, trained: Any) -> None:
    version = promote_run(actor=alice, run=trained, version="1.1.0")

    recipe = how_to_reproduce(version)

    assert recipe is not None
    assert (recipe.run_id, recipe.git_commit, recipe.python_version) == (
        trained.pk,
        "0123abc",
        "3.11.9",
    )
    assert recipe.datasets == [{"name": "train.parquet", "sha256": SHA, "role": "training"}]
    assert "scikit-learn==1.6.1" in recipe.packages
    assert recipe.params == {"learning_rate": "0.1", "max_depth": "3"}


def test_a_version_registered_by_hand_has_no_recipe(churn: Any) -> None:
    assert how_to_reproduce(churn.versions.get()) is None


def test_table_cells_show_param_values_as_written(alice: Any, trained: Any) -> None:
    """Pipes, markup and HTML in a value cannot break the table or reach the page."""
    log_batch(
        actor=alice,
        run=trained,
        params=[{"key": "note", "value": "a|b <script>x</script> *bold* [l](javascript:x)"}],
    )

    version = promote_run(actor=alice, run=trained, version="1.1.0")

    html = version.card.html["quantitative_analyses"]
    assert "<script>" not in html and "<strong>" not in html and "<a " not in html
    assert "a|b &lt;script&gt;" in html


def test_it_refuses_a_run_that_has_not_finished(alice: Any, trained: Any) -> None:
    running = create_run(actor=alice, experiment=trained.experiment, name="still going")

    with pytest.raises(ValidationError) as refused:
        promote_run(actor=alice, run=running, version="1.1.0")

    assert "finished" in refused.value.message_dict["run"][0]
    assert not Promotion.objects.exists()


def test_it_refuses_a_version_that_exists(alice: Any, trained: Any, churn: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        promote_run(actor=alice, run=trained, version="1.0.0")

    assert "already has version 1.0.0" in refused.value.message_dict["version"][0]
    assert churn.versions.count() == 1 and not Promotion.objects.exists()


def test_it_refuses_an_experiment_without_a_model(alice: Any, risk_team: Any) -> None:
    experiment = create_experiment(actor=alice, team=risk_team, name="no-model")
    run = end_run(actor=alice, run=create_run(actor=alice, experiment=experiment))

    with pytest.raises(ValidationError) as refused:
        promote_run(actor=alice, run=run, version="1.0.0")

    assert "model" in refused.value.message_dict


def test_a_viewer_cannot_promote(victor: Any, trained: Any) -> None:
    with pytest.raises(PermissionDenied):
        promote_run(actor=victor, run=trained, version="1.1.0")

    assert not Promotion.objects.exists()


def test_another_team_cannot_promote_to_our_model(charlie: Any, trained: Any) -> None:
    with pytest.raises(PermissionDenied):
        promote_run(actor=charlie, run=trained, version="1.1.0")


def test_another_model_can_be_named_if_the_actor_may_change_it(
    charlie: Any, search_team: Any, trained: Any
) -> None:
    """Reading runs is open to everyone; registering needs the target model's team."""
    ranker = create_model(actor=charlie, name="ranker", title="Ranker", team=search_team)

    version = promote_run(actor=charlie, run=trained, version="0.1.0", model=ranker)

    assert version.model == ranker and version.card.metrics.startswith("Final values")


# The form ----------------------------------------------------------------------------------


def _url(run: Any) -> str:
    return f"/experiments/runs/{run.pk}/promote/"


def test_the_form_suggests_the_next_version_and_previews_the_card(
    client_for: Any, alice: Any, trained: Any
) -> None:
    response = client_for(alice).get(_url(trained))

    assert response.status_code == 200
    assert response.context["form"]["version"].value() == "1.1.0"
    assert "| val\\_loss | 0.35 |" in response.content.decode()


def test_posting_the_form_promotes_and_redirects_to_the_version(
    client_for: Any, alice: Any, trained: Any, churn: Any
) -> None:
    response = client_for(alice).post(
        _url(trained), {"model": churn.pk, "version": "1.1.0", "notes": ""}
    )

    assert response.status_code == 302
    assert response["Location"] == "/models/churn/versions/1.1.0/"
    assert Promotion.objects.get().version.version == "1.1.0"


def test_the_form_reports_every_refusal_at_once(
    client_for: Any, alice: Any, trained: Any, churn: Any
) -> None:
    running = create_run(actor=alice, experiment=trained.experiment)

    response = client_for(alice).post(_url(running), {"model": churn.pk, "version": "1.0.0"})

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "already has version 1.0.0" in errors["version"][0]
    assert "finished" in errors["__all__"][0]
    assert 'class="error-summary"' in response.content.decode()
    assert not Promotion.objects.exists()


def test_a_viewer_gets_403_and_a_missing_run_404(
    client_for: Any, victor: Any, alice: Any, trained: Any
) -> None:
    assert client_for(victor).get(_url(trained)).status_code == 403
    assert client_for(alice).get("/experiments/runs/999999/promote/").status_code == 404


def test_the_form_answers_only_get_and_post(client_for: Any, alice: Any, trained: Any) -> None:
    assert client_for(alice).delete(_url(trained)).status_code == 405


def test_the_run_page_offers_promotion_to_the_team_only_once_finished(
    client_for: Any, alice: Any, victor: Any, run: Any
) -> None:
    from registry.experiments.services.runs import end_run

    page = f"/experiments/runs/{run.pk}/"
    promote = f"/experiments/runs/{run.pk}/promote/"
    assert promote not in client_for(alice).get(page).content.decode()  # still running

    end_run(actor=alice, run=run)

    assert promote in client_for(alice).get(page).content.decode()
    assert promote not in client_for(victor).get(page).content.decode()


def test_the_reproduce_page_lists_commit_datasets_environment_and_params(
    client_for: Any, alice: Any, trained: Any
) -> None:
    promote_run(actor=alice, run=trained, version="1.1.0")

    page = client_for(alice).get("/models/churn/versions/1.1.0/reproduce/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "git checkout 0123abc" in html
    assert SHA in html and "train.parquet" in html
    assert "scikit-learn==1.6.1" in html and "<code>3.11.9</code>" in html
    assert '<code>learning_rate</code></td><td class="wrap">0.1</td>' in html
    assert f'href="/experiments/runs/{trained.pk}/"' in html


def test_a_version_registered_by_hand_has_no_reproduce_page(
    client_for: Any, alice: Any, churn: Any
) -> None:
    assert client_for(alice).get("/models/churn/versions/1.0.0/reproduce/").status_code == 404
    assert client_for(alice).get("/models/churn/versions/9.9.9/reproduce/").status_code == 404


def test_the_run_page_links_the_versions_promoted_from_it(
    client_for: Any, alice: Any, trained: Any
) -> None:
    promote_run(actor=alice, run=trained, version="1.1.0")

    html = client_for(alice).get(f"/experiments/runs/{trained.pk}/").content.decode()

    assert 'href="/models/churn/versions/1.1.0/"' in html
    assert 'href="/models/churn/versions/1.1.0/reproduce/"' in html


def test_the_version_page_says_where_a_promoted_version_came_from(
    client_for: Any, alice: Any, trained: Any
) -> None:
    promote_run(actor=alice, run=trained, version="1.1.0")
    client = client_for(alice)

    promoted = client.get("/models/churn/versions/1.1.0/").content.decode()
    by_hand = client.get("/models/churn/versions/1.0.0/").content.decode()

    assert f'href="/experiments/runs/{trained.pk}/"' in promoted
    assert 'href="/models/churn/versions/1.1.0/reproduce/">How to reproduce' in promoted
    assert "How to reproduce" not in by_hand
    assert 'href="/feedback/models/churn/"' in by_hand
