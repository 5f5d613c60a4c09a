"""What each persona gets from each route of the native API (``/api/v1/``).

The same rules as the pages (rules_pages.py): everyone signed in reads, anonymous callers and
a revoked token get 401, a model's team's authors write, Approvers decide, a Viewer reads.
Personas call with their session; the revoked persona sends ``Authorization: Token <key>``.
"""

from __future__ import annotations

from typing import Any

from tests.security.matrix import (
    API,
    API_POST_ONLY,
    API_TEAM,
    PASSED,
    delete,
    everyone,
    patch,
    post,
    put,
    rule,
)

# Approve or reject: an Approver who did not request the release (alice did).
API_APPROVERS = API_TEAM.but(alice=403, bob=403, dana=PASSED)
# Deploy, promote, roll back, judge gates, resend a delivery: the team's authors or an Approver.
API_DEPLOYERS = API_TEAM.but(dana=PASSED)
# Anyone signed in: marking their own notifications read, feedback on any prediction.
ANYONE = everyone(PASSED, anonymous=401)
# Any Data scientist or Engineer, of any team (docs/privacy.md, "Erasing one person").
AUTHORS_OF_ANY_TEAM = API_TEAM.but(charlie=PASSED)
# Any worker (Data scientist, Engineer or Approver) comments on any team's item.
WORKERS = API_TEAM.but(charlie=PASSED, dana=PASSED)

ITEM = {"item_id": "{w.item.pk}"}
RELEASE = {"release_id": "{w.release.pk}"}
RUN = {"run_id": "{w.run.pk}"}
DATASET = {"dataset_name": "{w.dataset.name}", "dataset_version": "{w.dataset.version}"}


def _dataset_upload(world: Any) -> dict[str, Any]:
    return {
        "team": world.risk.slug,
        "name": "holdout",
        "version": "1",
        "kind": "evaluation",
        "file": world.parquet_upload(),
    }


def _prediction(world: Any) -> list[dict[str, Any]]:
    return [
        {
            "model": world.model.name,
            "version": world.version.version,
            "prediction_id": "matrix-1",
            "timestamp": "2026-11-30T10:00:00Z",
            "features": {"age": 40, "income": 3000, "tenure": 12, "tickets": 1},
            "output": {"label": "0"},
        }
    ]


RULES = {
    "api-schema": rule(API),
    "portal-api:me": rule(API),
    # Models and versions ---------------------------------------------------------------------
    "registry-api:model-list": rule(
        API,
        post(API_TEAM, {"name": "new-model", "title": "New", "team": "{w.risk.slug}"}),
    ),
    # The router maps PUT too; the view refuses it (405) for everyone, so it is no write.
    "registry-api:model-detail": rule(
        API,
        patch(API_TEAM, {"title": "Churn"}),
        delete(API_TEAM),
    ),
    "registry-api:model-compare": rule(API, query={"a": "1.0.0", "b": "1.1.0"}),
    "registry-api:version-list": rule(API, post(API_TEAM, {"version": "2.0.0"})),
    "registry-api:version-detail": rule(
        API, patch(API_TEAM, {"notes": "Retrained."}), delete(API_TEAM)
    ),
    "registry-api:version-artifact": rule(API, post(API_TEAM)),
    "registry-api:version-artifact-download": rule(API),
    "registry-api:version-card": rule(API, put(API_TEAM, {}), patch(API_TEAM, {})),
    "registry-api:version-card-export": rule(API),
    "registry-api:version-card-import": rule(API_POST_ONLY, post(API_TEAM, {})),
    "registry-api:version-contract": rule(API, put(API_TEAM, {})),
    "registry-api:version-status": rule(API_POST_ONLY, post(API_TEAM, {"status": "archived"})),
    # The backlog -----------------------------------------------------------------------------
    "backlog-api:backlog-item-list": rule(
        API, post(API_TEAM, {"team": "{w.risk.slug}", "title": "Check the Q4 data"})
    ),
    "backlog-api:backlog-item-detail": rule(API, patch(API_TEAM, {"title": "Retrain"}), args=ITEM),
    "backlog-api:backlog-item-move": rule(
        API_POST_ONLY, post(API_TEAM, {"status": "in_progress"}), args=ITEM
    ),
    "backlog-api:item-comment-list": rule(API, post(WORKERS, {"body": "Looks good."}), args=ITEM),
    "backlog-api:item-link-list": rule(
        API_POST_ONLY, post(API_TEAM, {"type": "version", "id": "{w.version.pk}"}), args=ITEM
    ),
    "backlog-api:item-link-detail": rule(
        API_POST_ONLY, delete(API_TEAM), args={**ITEM, "link_id": "{w.link.pk}"}
    ),
    "backlog-api:iteration-list": rule(
        API,
        post(
            API_TEAM,
            {
                "team": "{w.risk.slug}",
                "name": "Sprint 8",
                "start_date": "2026-12-01",
                "end_date": "2026-12-12",
            },
        ),
    ),
    "backlog-api:iteration-detail": rule(
        API,
        patch(API_TEAM, {"review_notes": "Shipped."}),
        args={"iteration_id": "{w.iteration.pk}"},
    ),
    "backlog-api:notification-list": rule(API),
    "backlog-api:notification-mark-read": rule(API_POST_ONLY, post(ANYONE, {})),
    # Experiments and runs --------------------------------------------------------------------
    "experiments-api:experiment-list": rule(
        API, post(API_TEAM, {"name": "sweep-2", "team": "{w.risk.slug}"})
    ),
    "experiments-api:experiment-detail": rule(
        API,
        patch(API_TEAM, {"description": "Learning rates."}),
        args={"experiment_id": "{w.experiment.pk}"},
    ),
    "experiments-api:experiment-compare": rule(
        API,
        args={"experiment_id": "{w.experiment.pk}"},
        query={"runs": "{w.run.pk},{w.run2.pk}"},
    ),
    "experiments-api:run-list": rule(API, post(API_TEAM, {"experiment": "{w.experiment.pk}"})),
    "experiments-api:run-detail": rule(API, args=RUN),
    "experiments-api:run-end": rule(API_POST_ONLY, post(API_TEAM, {}), args=RUN),
    "experiments-api:run-log-batch": rule(
        API_POST_ONLY,
        post(API_TEAM, {"tags": [{"key": "stage", "value": "final"}]}),
        args=RUN,
    ),
    "experiments-api:run-metric-history": rule(API, args={**RUN, "key": "loss"}),
    # Predictions, feedback, outcomes: logging is the team's; feedback is anyone's.
    "feedback-api:predictions": rule(API, post(API_TEAM, _prediction)),
    "feedback-api:feedback": rule(
        API,
        post(
            ANYONE,
            {"model": "{w.model.name}", "prediction_id": "p-1", "kind": "thumbs", "value": "up"},
        ),
    ),
    "feedback-api:outcomes": rule(
        API_POST_ONLY,
        post(
            API_TEAM,
            {"model": "{w.model.name}", "prediction_id": "p-1", "name": "converted", "value": 1},
        ),
    ),
    "feedback-api:end-user": rule(
        API_POST_ONLY, delete(AUTHORS_OF_ANY_TEAM), args={"end_user": "u-1"}
    ),
    # Datasets, evaluations, gates --------------------------------------------------------------
    "datasets-api:datasets": rule(API, post(API_TEAM, _dataset_upload)),
    "datasets-api:dataset": rule(API, delete(API_TEAM), args=DATASET),
    "datasets-api:validation": rule(
        API, args=DATASET, query={"model": "{w.model.name}", "version": "1.0.0"}
    ),
    "evaluations-api:input-mapping": rule(API, put(API_TEAM, {})),
    "evaluations-api:version-evaluations": rule(
        API,
        post(
            API_TEAM,
            {"dataset": "{w.dataset.name}", "dataset_version": "1", "label_column": "churned"},
        ),
    ),
    "evaluations-api:evaluation": rule(API, args={"evaluation_id": "{w.evaluation.pk}"}),
    "evaluations-api:evaluation-cancel": rule(
        API_POST_ONLY, post(API_TEAM), args={"evaluation_id": "{w.evaluation.pk}"}
    ),
    "gates-api:model-gates": rule(
        API, post(API_TEAM, {"kind": "metric", "metric": "accuracy", "threshold": 0.7})
    ),
    "gates-api:team-gates": rule(
        API,
        post(API_TEAM, {"kind": "metric", "metric": "accuracy", "threshold": 0.7}),
        args={"team_name": "{w.risk.slug}"},
    ),
    "gates-api:gate": rule(API, delete(API_TEAM), args={"gate_id": "{w.gate.pk}"}),
    "gates-api:version-gates": rule(API),
    "gates-api:gates-override": rule(
        API_POST_ONLY, post(API_APPROVERS, {"justification": "Known gap, tracked."})
    ),
    "gates-api:gates-judge": rule(API_POST_ONLY, post(API_DEPLOYERS)),
    "gates-api:contract-acknowledgement": rule(
        API_POST_ONLY, post(API_TEAM, {"note": "Consumers told."})
    ),
    # Monitoring ------------------------------------------------------------------------------
    "monitoring-api:config": rule(
        API, put(API_TEAM, {"reference": {"name": "{w.reference.name}", "version": "1"}})
    ),
    "monitoring-api:reports": rule(API, post(API_TEAM, {})),
    "monitoring-api:report": rule(API, args={"report_id": "{w.report.pk}"}),
    "monitoring-api:report-cancel": rule(
        API_POST_ONLY, post(API_TEAM), args={"report_id": "{w.report.pk}"}
    ),
    # Releases --------------------------------------------------------------------------------
    "releases-api:environments": rule(API),
    # Nothing runs in staging yet: the documented 404 that says so, for everyone signed in.
    "releases-api:what-runs": rule(
        everyone(404, anonymous=401), args={"environment_name": "staging"}
    ),
    "releases-api:release-list": rule(
        API,
        post(
            API_TEAM,
            {
                "model": "{w.model.name}",
                "version": "1.0.0",
                "environment": "staging",
                "justification": "Better recall.",
                "rollback_plan": "Roll back from the release page.",
            },
        ),
    ),
    "releases-api:release-detail": rule(API, args=RELEASE),
    "releases-api:release-approve": rule(
        API_POST_ONLY, post(API_APPROVERS, {"comment": "ok"}), args=RELEASE
    ),
    "releases-api:release-reject": rule(
        API_POST_ONLY, post(API_APPROVERS, {"comment": "Not yet."}), args=RELEASE
    ),
    "releases-api:release-cancel": rule(API_POST_ONLY, post(API_TEAM, {}), args=RELEASE),
    "releases-api:release-deployment-status": rule(
        API_POST_ONLY, post(API_DEPLOYERS, {"status": "started"}), args=RELEASE
    ),
    "releases-api:release-promote": rule(API_POST_ONLY, post(API_DEPLOYERS, {}), args=RELEASE),
    "releases-api:release-rollback": rule(
        API_POST_ONLY, post(API_DEPLOYERS, {"reason": "Errors."}), args=RELEASE
    ),
    "releases-api:release-webhook-list": rule(
        API, post(API_TEAM, {"team": "{w.risk.slug}", "url": "https://cd.example.com/h"})
    ),
    "releases-api:release-webhook-detail": rule(
        API_POST_ONLY, delete(API_TEAM), args={"webhook_id": "{w.webhook.pk}"}
    ),
    "releases-api:webhook-delivery-list": rule(API),
    "releases-api:webhook-delivery-resend": rule(
        API_POST_ONLY, post(API_DEPLOYERS), args={"delivery_id": "{w.delivery.pk}"}
    ),
}
