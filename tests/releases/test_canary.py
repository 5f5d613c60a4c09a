"""The canary analysis: the two-sample statistics against scipy and hand-computed values, the
comparisons of a running canary with the version it replaces on synthetic prediction logs
and feedback whose answer is known, and the guarding metric that holds the next traffic
step until an approver overrides it with a reason."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from scipy import stats

from feedback.models import PredictionLog
from feedback.services.access import Caller
from feedback.services.feedback import give_feedback
from feedback.services.outcomes import report_outcomes
from feedback.services.predictions import log_predictions
from portal.models import AuditEvent
from registry.releases.canary_stats import (
    MIN_SAMPLES,
    compare_mean_stats,
    compare_means,
    compare_proportions,
)
from registry.releases.models import CanaryStep, ReleaseRequest
from registry.releases.services.canary import NoBaseline, blocking_comparisons, compare
from registry.releases.services.deployments import mark_deployed, promote

# The statistics ---------------------------------------------------------------------------


def test_two_proportions_match_a_hand_computed_z_test_and_the_chi_square():
    """420/500 against 450/500: pooled z-test, unpooled 95 % interval, in points."""
    result = compare_proportions(successes_new=420, n_new=500, successes_old=450, n_old=500)

    p1, p2, pooled = 0.84, 0.90, 0.87
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / 500 + 1 / 500))
    half = 1.959963985 * math.sqrt(p1 * (1 - p1) / 500 + p2 * (1 - p2) / 500)
    assert result.new == pytest.approx(p1) and result.old == pytest.approx(p2)
    assert result.diff == pytest.approx(-0.06)
    assert result.ci == pytest.approx((-0.06 - half, -0.06 + half))
    assert result.p_value == pytest.approx(2 * stats.norm.sf(abs(z)))
    # The z-test is the 2x2 chi-square without Yates's correction.
    chi2 = stats.chi2_contingency([[420, 80], [450, 50]], correction=False)
    assert result.p_value == pytest.approx(chi2.pvalue)
    assert result.worse and not result.better
    assert result.verdict == f"worse: 6.0 points lower, p = {result.p_value:.3f}"
    assert result.p_value == pytest.approx(0.00479, abs=1e-5)


def test_a_higher_error_rate_is_worse_and_a_lower_one_better():
    higher = compare_proportions(
        successes_new=60, n_new=1_000, successes_old=30, n_old=1_000, higher_is_better=False
    )
    lower = compare_proportions(
        successes_new=30, n_new=1_000, successes_old=60, n_old=1_000, higher_is_better=False
    )

    assert higher.worse and higher.verdict.startswith("worse: 3.0 points higher, p = 0.00")
    assert lower.better and not lower.worse
    assert lower.verdict.startswith("better: 3.0 points lower, p = 0.00")


def test_a_small_or_even_difference_is_no_evidence_of_harm():
    even = compare_proportions(successes_new=1_049, n_new=1_234, successes_old=1_029, n_old=1_210)
    same = compare_proportions(successes_new=10, n_new=10, successes_old=12, n_old=12)

    assert not even.worse and even.p_value is not None and even.p_value > 0.05
    assert even.verdict == "no evidence of harm at n = 1,234 / 1,210"
    # Every prediction right on both sides: nothing can differ.
    assert same.p_value == 1.0 and same.verdict == "no evidence of harm at n = 10 / 12"


def test_too_few_observations_say_not_enough_data():
    none = compare_proportions(successes_new=0, n_new=0, successes_old=5, n_old=40)
    few = compare_proportions(successes_new=3, n_new=MIN_SAMPLES - 1, successes_old=5, n_old=40)
    one = compare_means([12.0], [10.0, 11.0, 12.0], higher_is_better=False, unit="ms")
    empty = compare_mean_stats(
        mean_new=None,
        var_new=None,
        n_new=0,
        mean_old=3.0,
        var_old=1.0,
        n_old=50,
        higher_is_better=True,
    )

    for result in (none, few, one, empty):
        assert result.verdict.startswith("not enough data")
        assert not result.worse and result.p_value is None and result.ci is None
    assert none.new is None and none.old == pytest.approx(5 / 40)
    assert empty.new is None and empty.old == 3.0


def test_welch_matches_scipy_for_samples_and_for_summaries():
    rng = np.random.default_rng(7)
    new, old = rng.normal(52, 12, 300), rng.normal(48, 6, 200)

    result = compare_means(new, old, higher_is_better=False, unit="ms")
    summary = compare_mean_stats(
        mean_new=float(new.mean()),
        var_new=float(new.var(ddof=1)),
        n_new=300,
        mean_old=float(old.mean()),
        var_old=float(old.var(ddof=1)),
        n_old=200,
        higher_is_better=False,
        unit="ms",
    )

    test = stats.ttest_ind(new, old, equal_var=False)
    interval = test.confidence_interval(0.95)
    for found in (result, summary):
        assert found.diff == pytest.approx(new.mean() - old.mean())
        assert found.p_value == pytest.approx(test.pvalue)
        assert found.df == pytest.approx(test.df)
        assert found.ci == pytest.approx((interval.low, interval.high))
        assert found.n_new == 300 and found.n_old == 200
    assert result.worse  # higher latency
    assert result.verdict == f"worse: {result.diff:.1f} ms higher, p < 0.001"
    assert "(95% CI +" in result.difference_text and result.difference_text.endswith(" ms)")


def test_welch_is_direction_aware_and_leaves_out_missing_values():
    faster = compare_means(
        [30.0, 31, 29, 30, 32, 28, 30, 31, 29, 30, np.nan],
        [40.0, 41, 39, 40, 42, 38, 40, 41, 39, 40],
        higher_is_better=False,
        unit="ms",
    )
    higher_kpi = compare_means(
        [1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10], [1.0, 2, 3, 4, 5, 6, 7, 8, 9, 11], higher_is_better=True
    )

    assert faster.n_new == 10 and faster.better and not faster.worse
    assert faster.verdict.startswith("better: 10.0 ms lower, p < 0.001")
    assert higher_kpi.verdict == "no evidence of harm at n = 10 / 10"


def test_constant_sides_differ_for_certain_or_not_at_all():
    apart = compare_means([5.0] * 20, [4.0] * 20, higher_is_better=True)
    equal = compare_means([5.0] * 20, [5.0] * 20, higher_is_better=True)

    assert apart.better and apart.p_value == 0.0 and apart.ci == (1.0, 1.0)
    assert equal.p_value == 1.0 and equal.verdict == "no evidence of harm at n = 20 / 20"


# Synthetic live data ----------------------------------------------------------------------


def _log(
    version: Any,
    *,
    by: Any,
    n: int,
    prefix: str,
    at: datetime,
    latency: tuple[float, float] | None = None,
    broken: int = 0,
    age_shift: float = 0.0,
    seed: int = 0,
) -> list[str]:
    """Log ``n`` predictions of ``version`` made at ``at``, each predicting "1"; the first
    ``broken`` break the contract; ``latency`` is (mean, sd) of a normal latency in ms."""
    rng = np.random.default_rng(seed)
    records = []
    for i in range(n):
        age: Any = float(40 + 10 * rng.standard_normal() + age_shift)
        record: dict[str, Any] = {
            "model": version.model.name,
            "version": version.version,
            "prediction_id": f"{prefix}-{i}",
            "timestamp": at.isoformat(),
            "features": {
                "age": "unknown" if i < broken else age,
                "income": float(3000 + 500 * rng.standard_normal() + 100 * age_shift),
                "region": str(rng.choice(["north", "south", "east"])),
            },
            "output": {"label": "1"},
        }
        if latency is not None:
            record["latency_ms"] = max(0.0, float(rng.normal(*latency)))
        records.append(record)
    result = log_predictions(caller=Caller(person=by), records=records, now=timezone.now())
    assert result.accepted == n, result
    return [record["prediction_id"] for record in records]


def _judge(ids: list[str], *, right: int, by: Any) -> None:
    """A corrected label on each prediction: the first ``right`` agree with it ("1")."""
    records = [
        {
            "model": "churn",
            "prediction_id": pid,
            "kind": "label",
            "value": "1" if i < right else "0",
        }
        for i, pid in enumerate(ids)
    ]
    result = give_feedback(caller=Caller(person=by), records=records, now=timezone.now())
    assert result.accepted == len(ids), result


def _convert(ids: list[str], *, converted: int, by: Any) -> None:
    records = [
        {"model": "churn", "prediction_id": pid, "name": "converted", "value": i < converted}
        for i, pid in enumerate(ids)
    ]
    report_outcomes(caller=Caller(person=by), records=records, now=timezone.now())


@pytest.fixture
def canary(make_release: Callable[..., ReleaseRequest]) -> ReleaseRequest:
    """A canary of churn 1.1.0 on 5 % of production traffic, deployed two hours ago."""
    release = make_release()
    ReleaseRequest.objects.filter(pk=release.pk).update(
        deployed_at=timezone.now() - timedelta(hours=2)
    )
    release.refresh_from_db()
    return release


def _live(
    release: ReleaseRequest, alice: Any, *, new_right: int, old_right: int, n: int = 300
) -> None:
    """``n`` judged predictions a side an hour ago, ``new_right`` and ``old_right`` of them
    right; and 100 wrong ones of the old version from before the canary, outside the window."""
    hour_ago = timezone.now() - timedelta(hours=1)
    new = _log(release.version, by=alice, n=n, prefix="new", at=hour_ago, seed=1)
    old = _log(release.replaces, by=alice, n=n, prefix="old", at=hour_ago, seed=2)
    _judge(new, right=new_right, by=alice)
    _judge(old, right=old_right, by=alice)
    before = _log(
        release.replaces, by=alice, n=100, prefix="before", at=timezone.now() - timedelta(hours=3)
    )
    _judge(before, right=0, by=alice)


def _by_key(release: ReleaseRequest) -> dict[str, Any]:
    return {comparison.key: comparison for comparison in compare(release)}


def test_a_canary_clearly_worse_on_accuracy_is_worse(canary, alice):
    _live(canary, alice, new_right=210, old_right=270)

    found = _by_key(canary)

    accuracy = found["accuracy"]
    assert accuracy.guarding and accuracy.worse
    assert (accuracy.result.n_new, accuracy.result.n_old) == (300, 300)  # not the 100 before
    assert accuracy.result.new == pytest.approx(0.7) and accuracy.result.old == pytest.approx(0.9)
    assert accuracy.verdict == "worse: 20.0 points lower, p < 0.001"
    assert accuracy.values_text == "70.0% (new) vs 90.0% (old)"
    assert [c.key for c in blocking_comparisons(canary)] == ["accuracy"]


def test_a_canary_as_good_as_the_old_version_shows_no_evidence_of_harm(canary, alice):
    _live(canary, alice, new_right=255, old_right=255)

    found = _by_key(canary)

    assert found["accuracy"].verdict == "no evidence of harm at n = 300 / 300"
    assert not any(c.worse for c in found.values())
    assert blocking_comparisons(canary) == []


def test_each_comparison_of_the_logs_and_outcomes_is_shown(canary, alice):
    """Latency is worse (not guarding), the error rate is worse (guarding), conversion is
    even, the inputs come from one population."""
    hour_ago = timezone.now() - timedelta(hours=1)
    new = _log(canary.version, by=alice, n=200, prefix="n", at=hour_ago, latency=(50, 5), broken=20)
    old = _log(canary.replaces, by=alice, n=200, prefix="o", at=hour_ago, latency=(40, 5), seed=3)
    _convert(new, converted=60, by=alice)
    _convert(old, converted=60, by=alice)

    found = _by_key(canary)

    assert list(found) == ["accuracy", "kpi:converted", "error_rate", "latency", "drift"]
    assert found["accuracy"].verdict.startswith("not enough data at n = 0 / 0")
    latency = found["latency"]
    assert latency.worse and not latency.guarding
    assert latency.verdict == f"worse: {latency.result.diff:.1f} ms higher, p < 0.001"
    # The moments summed in SQL give scipy's Welch test on the logged latencies.
    logged = {
        version.pk: list(
            PredictionLog.objects.filter(version=version).values_list("latency_ms", flat=True)
        )
        for version in (canary.version, canary.replaces)
    }
    welch = stats.ttest_ind(logged[canary.version.pk], logged[canary.replaces.pk], equal_var=False)
    assert latency.result.p_value == pytest.approx(welch.pvalue)
    assert latency.result.ci == pytest.approx(tuple(welch.confidence_interval(0.95)))
    errors = found["error_rate"]
    assert errors.guarding and errors.worse
    assert (errors.result.new, errors.result.old) == (0.1, 0.0)
    assert errors.verdict == "worse: 10.0 points higher, p < 0.001"
    kpi = found["kpi:converted"]
    assert kpi.result.new == pytest.approx(0.3) and kpi.result.n_old == 200
    assert kpi.verdict == "no evidence of harm at n = 200 / 200" and not kpi.guarding
    drift = found["drift"]
    assert not drift.worse and drift.verdict.startswith("no evidence of drift at n = 200 / 200")
    assert set(drift.result.columns) == {"age", "income", "region"}
    assert [c.key for c in blocking_comparisons(canary)] == ["error_rate"]


def test_inputs_from_another_population_are_drift(canary, alice, production_env):
    hour_ago = timezone.now() - timedelta(hours=1)
    _log(canary.version, by=alice, n=400, prefix="n", at=hour_ago, age_shift=15, seed=4)
    _log(canary.replaces, by=alice, n=400, prefix="o", at=hour_ago, seed=5)
    production_env.guarding_metrics = ["drift"]
    production_env.save(update_fields=["guarding_metrics"])
    canary.refresh_from_db()

    drift = _by_key(canary)["drift"]

    assert drift.worse and drift.guarding
    assert drift.result.dataset.drifted_columns == ["age", "income"]
    assert drift.verdict.startswith("drifted: 2 of 3 features differ (age, income)")


def test_a_kpi_guards_under_its_bare_name(canary, alice, production_env):
    hour_ago = timezone.now() - timedelta(hours=1)
    new = _log(canary.version, by=alice, n=200, prefix="n", at=hour_ago)
    old = _log(canary.replaces, by=alice, n=200, prefix="o", at=hour_ago, seed=3)
    _convert(new, converted=40, by=alice)
    _convert(old, converted=100, by=alice)
    production_env.guarding_metrics = ["converted"]
    production_env.save(update_fields=["guarding_metrics"])
    canary.refresh_from_db()

    blocking = blocking_comparisons(canary)

    assert [c.key for c in blocking] == ["kpi:converted"]
    assert blocking[0].verdict.startswith("worse: 0.3 lower, p < 0.001")


def test_the_query_count_does_not_grow_with_the_logs(canary, alice):
    def queries() -> int:
        # As the release page and ``promote`` hold it: its version and environment read.
        release = ReleaseRequest.objects.select_related("version", "environment").get(pk=canary.pk)
        with CaptureQueriesContext(connection) as captured:
            compare(release)
        return len(captured)

    hour_ago = timezone.now() - timedelta(hours=1)
    for side, version in (("a", canary.version), ("b", canary.replaces)):
        _judge(_log(version, by=alice, n=20, prefix=side, at=hour_ago), right=15, by=alice)
    few = queries()
    for side, version in (("c", canary.version), ("d", canary.replaces)):
        ids = _log(version, by=alice, n=120, prefix=side, at=hour_ago, latency=(30, 3))
        _judge(ids, right=100, by=alice)
        _convert(ids, converted=30, by=alice)
    many = queries()

    assert few == many == 5  # feedback, outcomes, logs, and a drift sample a side


def test_only_a_deployed_canary_with_a_predecessor_is_compared(make_release, alice):
    release = make_release(deploy=False)
    with pytest.raises(ValueError, match="not deployed"):
        compare(release)

    mark_deployed(actor=alice, release=release)
    ReleaseRequest.objects.filter(pk=release.pk).update(replaces=None)
    release.refresh_from_db()
    with pytest.raises(NoBaseline):
        compare(release)
    assert blocking_comparisons(release) == []


def test_the_window_ends_when_the_canary_takes_all_traffic(canary, alice, daria):
    _live(canary, alice, new_right=210, old_right=270)
    promote(actor=daria, release=canary, override_reason="Accuracy dip is a labelling backlog.")
    promote(actor=daria, release=canary, override_reason="Still the labelling backlog.")
    canary.refresh_from_db()
    assert canary.traffic_percent == 100
    later = timezone.now() + timedelta(minutes=5)
    # The new version's later predictions, all right, come after the window.
    ids = _log(canary.version, by=alice, n=300, prefix="after", at=later - timedelta(minutes=1))
    _judge(ids, right=300, by=alice)

    accuracy = {c.key: c for c in compare(canary, now=later)}["accuracy"]

    assert accuracy.result.n_new == 300 and accuracy.worse


# The guard on the next traffic step -------------------------------------------------------


def test_a_worse_guarding_metric_blocks_the_next_step(canary, alice):
    _live(canary, alice, new_right=210, old_right=270)

    with pytest.raises(ValidationError) as refused:
        promote(actor=alice, release=canary)

    assert "override_reason" in refused.value.message_dict
    assert "Accuracy (feedback)" in refused.value.message_dict["override_reason"][0]
    canary.refresh_from_db()
    assert canary.traffic_percent == 5
    steps = CanaryStep.objects.filter(request=canary).values_list("traffic_percent", flat=True)
    assert list(steps) == [5]


def test_an_approvers_reason_lets_the_step_through_and_is_recorded(canary, alice, daria):
    _live(canary, alice, new_right=210, old_right=270)
    reason = "The dip is a labelling backlog in one region; checked with the labelling team."

    promote(actor=daria, release=canary, override_reason=f"  {reason} ")

    canary.refresh_from_db()
    assert canary.traffic_percent == 25
    step = CanaryStep.objects.filter(request=canary).order_by("-at", "-pk").first()
    assert step.traffic_percent == 25 and step.by == daria and step.override_reason == reason
    event = AuditEvent.objects.get(verb="release.step_promoted", target_id=str(canary.pk))
    assert event.actor == daria
    assert event.before == {"traffic_percent": 5}
    assert event.after == {"traffic_percent": 25, "override_reason": reason}


def test_a_non_approver_cannot_override_a_guarding_metric(canary, alice, erin):
    _live(canary, alice, new_right=210, old_right=270)

    for deployer in (alice, erin):  # the model's team: they may promote, not override
        with pytest.raises(PermissionDenied):
            promote(actor=deployer, release=canary, override_reason="Looks fine to me.")

    canary.refresh_from_db()
    assert canary.traffic_percent == 5
    assert not AuditEvent.objects.filter(verb="release.step_promoted").exists()


def test_a_canary_with_no_evidence_of_harm_moves_on_without_a_reason(canary, alice, erin):
    _live(canary, alice, new_right=255, old_right=255)

    promote(actor=erin, release=canary)

    canary.refresh_from_db()
    assert canary.traffic_percent == 25
    assert CanaryStep.objects.filter(request=canary).order_by("-pk").first().override_reason == ""


def test_the_release_page_shows_the_verdicts(canary, alice, client_for):
    _live(canary, alice, new_right=210, old_right=270)

    page = client_for(alice).get(canary.get_absolute_url())

    assert page.status_code == 200
    html = page.content.decode()
    assert "worse: 20.0 points lower, p &lt; 0.001" in html
    assert "Accuracy (feedback)" in html and "blocks the next step" in html
