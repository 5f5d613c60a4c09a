"""Read paths of the feedback pages (the inbox's are in ``inbox_queries``):

- a prediction's page reads the model, the prediction's identity, its log row (in the one
  partition its time falls in), its feedback, its outcomes and the backlog items about it,
  a query each;
- a model's API keys page reads the model and its keys (its own and its team's), a query each;
- ``activity_links`` gives the page of feedback, predictions and keys that audit events and
  backlog items name, in one query.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, F, Q, Value
from django.urls import reverse

from feedback.inbox_queries import flat_features, predicted, said, shown_value
from feedback.models import ApiKey, Feedback, Outcome, PredictionKey, PredictionLog
from portal.activity import Target
from portal.backlog.models import BacklogItem
from registry.models import RegisteredModel

FEEDBACK_SHOWN = 100  # a prediction's page shows its newest feedback; the inbox has it all
VALUE_SHOWN = 2_000  # characters of a feature's value on a prediction's page


def prediction_url(model_name: str, prediction_id: str) -> str:
    return reverse("feedback:prediction", args=[model_name, prediction_id])


# A prediction -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PredictionPage:
    model: RegisteredModel
    prediction_id: str
    key: PredictionKey | None  # None: feedback or outcomes came first, the prediction did not
    log: PredictionLog | None  # None: not logged yet, or dropped with its month
    feedback: list[Feedback]
    more_feedback: bool
    outcomes: list[Outcome]
    items: list[BacklogItem]

    @property
    def features(self) -> list[tuple[str, str]]:
        if self.log is None:
            return []
        return [(k, shown_value(v, VALUE_SHOWN)) for k, v in flat_features(self.log.features)]

    @property
    def probabilities(self) -> list[tuple[str, str]]:
        """The output's class probabilities as percentages ("72.5"), likeliest first."""
        found = self.log.output.get("probabilities") if self.log is not None else None
        if not isinstance(found, dict):
            return []
        numbers = [
            (str(label), float(p))
            for label, p in found.items()
            if isinstance(p, int | float) and not isinstance(p, bool) and 0 <= p <= 1
        ]
        numbers.sort(key=lambda pair: -pair[1])
        return [(label, f"{p * 100:.1f}") for label, p in numbers]

    @property
    def output_json(self) -> str:
        return json.dumps(self.log.output, indent=2, ensure_ascii=False) if self.log else ""

    @property
    def predicted(self) -> str:
        return predicted(self.log) if self.log is not None else ""

    @property
    def feedback_said(self) -> list[tuple[Feedback, str]]:
        return [(f, said(f)) for f in self.feedback]


def prediction_page(model_name: str, prediction_id: str) -> PredictionPage:
    """Everything a prediction's page shows; ``PredictionLog.DoesNotExist`` when Handoff knows
    nothing of it (no log, no feedback, no outcome); RegisteredModel.DoesNotExist for a bad name.
    """
    model = RegisteredModel.objects.select_related("team").get(name=model_name)
    key = (
        PredictionKey.objects.select_related("version")
        .filter(model=model, prediction_id=prediction_id)
        .first()
    )
    log = None
    if key is not None:
        log = (
            PredictionLog.objects.filter(
                model=model, prediction_id=prediction_id, predicted_at=key.predicted_at
            )
            .select_related("version")
            .first()
        )
    feedback = list(
        Feedback.objects.filter(model=model, prediction_id=prediction_id).select_related(
            "given_by", "reviewed_by"
        )[: FEEDBACK_SHOWN + 1]
    )
    outcomes = list(
        Outcome.objects.filter(model=model, prediction_id=prediction_id).order_by("name")
    )
    if key is None and not feedback and not outcomes:
        raise PredictionLog.DoesNotExist(f"No prediction {prediction_id!r} of {model_name}.")
    return PredictionPage(
        model=model,
        prediction_id=prediction_id,
        key=key,
        log=log,
        feedback=feedback[:FEEDBACK_SHOWN],
        more_feedback=len(feedback) > FEEDBACK_SHOWN,
        outcomes=outcomes,
        items=items_about_prediction(key, feedback[:FEEDBACK_SHOWN]),
    )


def items_about_prediction(
    key: PredictionKey | None, feedback: Iterable[Feedback]
) -> list[BacklogItem]:
    """Backlog items linked to the prediction or to its feedback: one query (none if neither)."""
    types = ContentType.objects.get_for_models(PredictionKey, Feedback)
    about = Q()
    if key is not None:
        about |= Q(links__target_type=types[PredictionKey], links__target_id=str(key.pk))
    ids = [str(f.pk) for f in feedback]
    if ids:
        about |= Q(links__target_type=types[Feedback], links__target_id__in=ids)
    if not about:
        return []
    return list(
        BacklogItem.objects.filter(about).only("id", "title", "status").order_by("-pk").distinct()
    )


# A model's API keys -------------------------------------------------------------------------


@dataclass(frozen=True)
class KeysPage:
    model: RegisteredModel
    keys: list[ApiKey]  # the model's own and its team's every-model keys, newest first


def keys_page(model_name: str) -> KeysPage:
    """RegisteredModel.DoesNotExist for a bad name."""
    model = RegisteredModel.objects.select_related("team").get(name=model_name)
    keys = (
        ApiKey.objects.filter(Q(model=model) | Q(model__isnull=True, team_id=model.team_id))
        .select_related("model", "created_by", "revoked_by")
        .order_by("-created_at", "-pk")
    )
    return KeysPage(model=model, keys=list(keys))


# Links for audit events and backlog items ---------------------------------------------------


def activity_links(targets: Iterable[Target]) -> dict[Target, str]:
    """The page of each feedback target (``portal.activity.links_for``), in one query:
    feedback and predictions link to the prediction's page, a model's key to its keys page.
    A target deleted since, or a team-wide key, has no link."""
    types = ContentType.objects.get_for_models(Feedback, PredictionKey, ApiKey)
    wanted: dict[int, list[int]] = defaultdict(list)
    for type_id, target_id in targets:
        if target_id.isdigit():
            wanted[type_id].append(int(target_id))
    text: CharField[str, str] = CharField()
    lookups: list[tuple[type[Any], Any]] = [
        (Feedback, F("prediction_id")),
        (PredictionKey, F("prediction_id")),
        (ApiKey, Value("", output_field=text)),
    ]
    parts = [
        kind.objects.filter(pk__in=wanted[types[kind].pk], **_named(kind))
        .order_by()
        .annotate(
            link_type=Value(types[kind].pk),
            link_target=F("pk"),
            link_model=F("model__name"),
            link_prediction=prediction,
        )
        .values_list("link_type", "link_target", "link_model", "link_prediction")
        for kind, prediction in lookups
        if wanted.get(types[kind].pk)
    ]
    if not parts:
        return {}
    first, *rest = parts
    rows = first.union(*rest, all=True) if rest else first
    return {
        (kind, str(pk)): _target_url(kind, pk, name, prediction, types)
        for kind, pk, name, prediction in rows
    }


def _named(kind: type[Any]) -> dict[str, Any]:
    # A team-wide key names no model, so no model's keys page.
    return {"model__isnull": False} if kind is ApiKey else {}


def _target_url(
    kind: int, pk: int, model_name: str, prediction: str, types: dict[type[Any], ContentType]
) -> str:
    if kind == types[ApiKey].pk:
        return reverse("feedback:keys", args=[model_name])
    url = prediction_url(model_name, prediction)
    return f"{url}#feedback-{pk}" if kind == types[Feedback].pk else url
