"""Demo feedback for `make demo`: a month of production traffic on the two risk models.

wine-cultivar and breast-cancer-screening have served requests for the last 30 days, 1.0.0
first and 1.1.0 since mid-window. Each request is a sample of the model's bundled data set
with some measurement noise (wine: a new laboratory reads colour intensity high in the last
ten days), scored by the version's own ONNX artifact, so each prediction is the model's real
answer and some are wrong. People answer the way the truth says: thumbs and ratings from the
widget, corrected labels from the lab or pathology system (the right label, so a correction
of a wrong prediction disagrees with it), a few comments; business outcomes follow a share
of the predictions, and a handful of requests break the input contract.

The traffic and what each version answered are in ``demo_traffic.py``; here everything goes
through the services with API keys made for the demo (a server key for the
team, a widget key per model), on a moved clock and a fixed seed, so the same month comes
out every time. Seeding again adds nothing: a model that has logged predictions is left alone.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import numpy as np
import time_machine
from django.db import transaction
from django.utils import timezone

from feedback.demo_traffic import DAYS, TRAFFIC, Served, Traffic, serve
from feedback.models import ApiKey, FeedbackSource, PredictionLog, Scope
from feedback.services.access import Caller
from feedback.services.feedback import give_feedback
from feedback.services.keys import create_key
from feedback.services.outcomes import report_outcomes
from feedback.services.predictions import log_predictions
from portal.models import Team
from registry.demo.common import SEED
from registry.models import RegisteredModel

WIDGET_ORIGIN = "http://127.0.0.1:8000"
SERVER_KEY = "Intake and screening services"
WIDGET_KEY = "Feedback widget"
KEY_OWNERS = {"Risk Modelling": "bob", "Search Relevance": "dmitri"}
VIOLATIONS = 6  # requests per model that break the input contract


def seed_feedback(users: dict[str, Any]) -> None:
    """Keys, then a month of predictions and feedback for each demo model that has none."""
    now = timezone.now()
    window_start = _midnight(now) - timedelta(days=DAYS)
    with time_machine.travel(window_start - timedelta(hours=6), tick=False):
        server, widgets = _keys(users)
    if server is None:
        return  # the registry demo has not made the risk team
    logged = set(PredictionLog.objects.values_list("model__name", flat=True).distinct())
    for index, traffic in enumerate(TRAFFIC):
        model = RegisteredModel.objects.filter(name=traffic.model).first()
        if model is None or model.name in logged or model.pk not in widgets:
            continue
        served = serve(traffic, window_start, np.random.default_rng(SEED + index))
        if served:
            _seed_model(traffic, served, server, widgets[model.pk], now, index)


# Keys ---------------------------------------------------------------------------------------


def _keys(users: dict[str, Any]) -> tuple[ApiKey | None, dict[int, ApiKey]]:
    """The risk team's server key and a widget key per demo model, made once by name."""
    server = None
    risk = Team.objects.filter(name="Risk Modelling").first()
    if risk is not None:
        server = ApiKey.objects.filter(team=risk, model=None, name=SERVER_KEY).first()
        if server is None:
            scopes = [Scope.PREDICTIONS, Scope.FEEDBACK]
            actor = users[KEY_OWNERS[risk.name]]
            server, _ = create_key(actor=actor, team=risk, name=SERVER_KEY, scopes=scopes)
    widgets = {}
    for model in RegisteredModel.objects.select_related("team").filter(team__name__in=KEY_OWNERS):
        key = ApiKey.objects.filter(model=model, name=WIDGET_KEY).first()
        if key is None:
            key, _ = create_key(
                actor=users[KEY_OWNERS[model.team.name]],
                team=model.team,
                model=model,
                name=WIDGET_KEY,
                scopes=[Scope.FEEDBACK],
                allowed_origins=[WIDGET_ORIGIN],
            )
        widgets[model.pk] = key
    return server, widgets


# Logging it all through the services --------------------------------------------------------


def _seed_model(
    traffic: Traffic,
    served: list[Served],
    server: ApiKey,
    widget: ApiKey,
    now: datetime,
    index: int,
) -> None:
    rng = np.random.default_rng(SEED + 100 + index)
    broken = set(rng.choice(len(served), VIOLATIONS, replace=False).tolist())
    by_day: dict[int, list[dict[str, Any]]] = {}
    for number, s in enumerate(served):
        record = _record(traffic, s, broken=number in broken, rng=rng)
        by_day.setdefault(_day(s.at, served[0].at), []).append(record)
    with time_machine.travel(served[0].at, tick=False) as clock, transaction.atomic():
        for records in by_day.values():
            # Each day is shipped in one batch, shortly after its last request.
            clock.move_to(datetime.fromisoformat(records[-1]["timestamp"]) + timedelta(minutes=2))
            log_predictions(caller=Caller(key=server), records=records, now=timezone.now())
        _give_feedback(traffic, served, server, widget, now, rng)
        _report_outcomes(traffic, served, server, clock, now, rng)


def _record(
    traffic: Traffic, served: Served, *, broken: bool, rng: np.random.Generator
) -> dict[str, Any]:
    features = served.features
    if broken:
        features = _break(features, served.prediction_id)
    return {
        "model": traffic.model,
        "prediction_id": served.prediction_id,
        "version": served.version,
        "timestamp": served.at.isoformat(),
        "features": features,
        "output": {"label": served.label, "probabilities": served.probabilities},
        "latency_ms": round(float(rng.lognormal(2.1, 0.35)), 2),
        "end_user": f"{traffic.requesters}-{int(rng.integers(1, 13)):02d}",
        "metadata": {"client": traffic.client, "ip": _address(rng)},
    }


def _address(rng: np.random.Generator) -> str:
    return f"10.20.{int(rng.integers(1, 9))}.{int(rng.integers(2, 250))}"


def _break(features: dict[str, Any], prediction_id: str) -> dict[str, Any]:
    """How callers break the contract: a value missing, negative, or text for a number."""
    broken = {k: dict(v) if isinstance(v, dict) else v for k, v in features.items()}
    group = next(k for k, v in broken.items() if isinstance(v, dict))
    first = next(iter(broken[group]))
    way = int(prediction_id[-1]) % 3
    if way == 0:
        del broken[group][first]
    elif way == 1:
        broken[group][first] = -1.0
    else:
        broken[group][first] = "n/a"
    return broken


def _give_feedback(
    traffic: Traffic,
    served: list[Served],
    server: ApiKey,
    widget: ApiKey,
    now: datetime,
    rng: np.random.Generator,
) -> None:
    """Thumbs, ratings and comments from the widget, corrections from the lab's system."""
    given: list[tuple[datetime, ApiKey, dict[str, Any]]] = []
    wrong = [s.prediction_id for s in served if s.wrong]
    commented = set(rng.permutation(wrong)[: len(traffic.comments)].tolist())
    comments = iter(traffic.comments)
    for s in served:
        person = f"{traffic.people}-{int(rng.integers(1, 7)):02d}"
        soon = s.at + timedelta(minutes=float(rng.uniform(3, 240)))
        draw = rng.random(4)
        if draw[0] < (0.35 if s.wrong else 0.05):  # the lab's answer, days later
            later = s.at + timedelta(days=float(rng.uniform(1, 4)))
            given.append((later, server, _piece(traffic, s, "label", s.truth)))
        if draw[1] < 0.12:
            up = draw[3] < (0.15 if s.wrong else 0.92)
            thumbs = _piece(traffic, s, "thumbs", "up" if up else "down", person)
            given.append((soon, widget, thumbs))
        if draw[2] < 0.04:
            score = int(rng.integers(1, 3)) if s.wrong else int(rng.integers(4, 6))
            given.append((soon, widget, _piece(traffic, s, "rating", score, person)))
        if s.prediction_id in commented:
            text = next(comments)
            given.append((soon, widget, _piece(traffic, s, "comment", text, person)))
    for at, key, record in sorted(given, key=lambda item: item[0]):
        source = FeedbackSource.WIDGET if key.model_id else FeedbackSource.API
        give_feedback(caller=Caller(key=key), records=[record], now=min(at, now), source=source)


def _piece(
    traffic: Traffic, served: Served, kind: str, value: Any, person: str = ""
) -> dict[str, Any]:
    return {
        "model": traffic.model,
        "prediction_id": served.prediction_id,
        "kind": kind,
        "value": value,
        "end_user": person,
        "idempotency_key": f"demo-{kind}-{served.prediction_id}",
    }


def _report_outcomes(
    traffic: Traffic,
    served: list[Served],
    server: ApiKey,
    clock: Any,
    now: datetime,
    rng: np.random.Generator,
) -> None:
    """A 0/1 outcome for about 40 % of predictions, reported a few days later, by day."""
    by_day: dict[int, list[dict[str, Any]]] = {}
    start = served[0].at
    for s in served:
        if rng.random() >= 0.4:
            continue
        if traffic.outcome == "lot_released":  # held lots are those flagged against paperwork
            value = int(not s.wrong or rng.random() < 0.3)
        else:  # a biopsy follows a malignant call, and sometimes a doubtful benign one
            value = int(s.label == "malignant" or rng.random() < 0.08)
        at = min(s.at + timedelta(days=float(rng.uniform(1, 3))), now)
        record: dict[str, Any] = {"model": traffic.model, "prediction_id": s.prediction_id}
        record |= {"name": traffic.outcome, "value": value, "timestamp": at.isoformat()}
        by_day.setdefault(_day(s.at, start), []).append(record)
    for day, records in sorted(by_day.items()):
        clock.move_to(min(_midnight(start) + timedelta(days=day + 4), now))
        report_outcomes(caller=Caller(key=server), records=records, now=timezone.now())


def _midnight(moment: datetime) -> datetime:
    return datetime.combine(moment.date(), time(0), tzinfo=moment.tzinfo)


def _day(moment: datetime, start: datetime) -> int:
    return (moment - _midnight(start)).days
