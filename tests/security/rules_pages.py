"""What each persona gets from each page (HTML routes), for a read and for each write.

The rules of docs/architecture.md and docs/api.md: everyone signed in reads; a model's
team's Data scientists and Engineers change it and what hangs off it; Approvers decide
releases, override checks and gates, deploy and roll back; a Viewer reads only; anonymous
visitors go to the login page. Bodies are minimal but well formed where a view checks its
form before asking who may, so the outsider's answer is about who, not about the body.
"""

from __future__ import annotations

from tests.security.matrix import (
    LOGIN,
    PAGE,
    PASSED,
    POST_ONLY,
    TEAM,
    TEAM_FORM,
    everyone,
    post,
    rule,
)

# Who may approve or reject a release: an Approver who did not request it (alice did).
APPROVERS = TEAM.but(alice=403, bob=403, dana=PASSED)
# Deploy, promote and roll back: the team's authors or any Approver.
DEPLOYERS = TEAM.but(dana=PASSED)
# A form that offers only the person's own teams: naming alice's team is refused as an
# invalid choice, and the form comes back (200); success would be a redirect (302).
OWN_TEAMS_ONLY = 200


RULES = {
    # The portal ------------------------------------------------------------------------
    "home": rule(PAGE),
    "healthz": rule(everyone(200, anonymous=200)),
    "readyz": rule(everyone(200, anonymous=200)),
    # From an address outside HANDOFF_METRICS_NETWORKS and without the token: no one.
    "metrics": rule(everyone(404, anonymous=404)),
    "system": rule(everyone(403, anonymous=LOGIN).but(root=200)),
    "system-retry": rule(
        POST_ONLY,
        post(everyone(403, anonymous=LOGIN).but(root=PASSED)),
        args={"kind": "{w.delivery_kind}", "pk": "{w.delivery.pk}"},
    ),
    # Signed in, the login page sends you on; a wrong password shows the form again.
    "login": rule(
        everyone(302, anonymous=200),
        post(everyone(302, anonymous=200), {"username": "alice", "password": "wrong"}),
    ),
    "logout": rule(POST_ONLY, post(everyone(LOGIN, anonymous=LOGIN))),
    # Everyone makes their own tokens, and revokes only their own (another's is a 404).
    "tokens": rule(PAGE, post(everyone(302, anonymous=LOGIN), {"name": "ci", "scope": "read"})),
    "token-revoke": rule(
        POST_ONLY,
        post(everyone(404, anonymous=LOGIN).but(alice=302)),
        args={"pk": "{w.spare_token.pk}"},
    ),
    # The API's documentation pages are pages for people: the login page, not a 401.
    "api-docs": rule(PAGE),
    "api-redoc": rule(PAGE),
    # The registry ------------------------------------------------------------------------
    "registry:model-list": rule(PAGE),
    "registry:model-create": rule(
        PAGE.but(dana=403, victor=403),
        post(
            TEAM.but(charlie=OWN_TEAMS_ONLY),
            {"team": "{w.risk.slug}", "name": "new-model", "title": "New", "task_type": "other"},
        ),
    ),
    "registry:model-detail": rule(PAGE),
    "registry:model-edit": rule(TEAM_FORM, post(TEAM, {"title": "Churn"})),
    "registry:model-delete": rule(
        POST_ONLY,
        # The world's model has a release request, which keeps it: refused, never a 500.
        post(TEAM),
    ),
    "registry:version-compare": rule(PAGE, query={"a": "1.0.0", "b": "1.1.0"}),
    "registry:version-create": rule(TEAM_FORM, post(TEAM, {"version": "2.0.0"})),
    "registry:version-detail": rule(PAGE),
    "registry:version-status": rule(POST_ONLY, post(TEAM, {"status": "archived"})),
    "registry:version-delete": rule(POST_ONLY, post(TEAM), args={"version": "1.1.0"}),
    "registry:contract-edit": rule(TEAM_FORM, post(TEAM)),
    "registry:card-edit": rule(TEAM_FORM, post(TEAM)),
    "registry:card-preview": rule(POST_ONLY, post(TEAM, {"field": "intended_use"})),
    "registry:card-export": rule(PAGE),
    "registry:card-import": rule(POST_ONLY, post(TEAM)),
    "registry:card-import-confirm": rule(POST_ONLY, post(TEAM)),
    "registry:artifact-upload": rule(POST_ONLY, post(TEAM)),
    "registry:artifact-status": rule(PAGE),
    "registry:artifact-cancel": rule(POST_ONLY, post(TEAM)),
    "registry:artifact-download": rule(PAGE),
    # 1.1.0 came from a run (world._experiments links them).
    "experiments-reproduce:version-reproduce": rule(PAGE, args={"version": "1.1.0"}),
    # Evaluations, input mappings and gates -----------------------------------------------------
    "evaluation:evaluation-start": rule(TEAM_FORM, post(TEAM)),
    "evaluation:evaluation": rule(PAGE, args={"pk": "{w.evaluation.pk}"}),
    "evaluation:evaluation-job": rule(PAGE, args={"pk": "{w.evaluation.pk}"}),
    "evaluation:evaluation-cancel": rule(POST_ONLY, post(TEAM), args={"pk": "{w.evaluation.pk}"}),
    "evaluation:mapping-edit": rule(TEAM_FORM, post(TEAM)),
    "gates:model-gates": rule(
        PAGE,
        post(TEAM, {"kind": "metric", "metric": "accuracy", "comparator": ">=", "threshold": 0.7}),
    ),
    "gates:gate-remove": rule(POST_ONLY, post(TEAM), args={"pk": "{w.gate.pk}"}),
    "gates:version-gates": rule(PAGE),
    # Approvers override failing gates; the team's authors may not.
    "gates:version-gates-override": rule(
        POST_ONLY, post(APPROVERS, {"justification": "Known gap, tracked."})
    ),
    "gates:version-gates-judge": rule(POST_ONLY, post(DEPLOYERS)),
    "gates:contract-acknowledge": rule(POST_ONLY, post(TEAM, {"note": "Consumers told."})),
    # Monitoring ----------------------------------------------------------------------------
    "monitoring:model": rule(PAGE),
    "monitoring:config": rule(PAGE, post(TEAM)),
    "monitoring:run": rule(POST_ONLY, post(TEAM)),
    "monitoring:report": rule(PAGE, args={"pk": "{w.report.pk}"}),
    "monitoring:report-job": rule(PAGE, args={"pk": "{w.report.pk}"}),
    "monitoring:report-cancel": rule(POST_ONLY, post(TEAM), args={"pk": "{w.report.pk}"}),
    "monitoring:report-column": rule(PAGE, args={"pk": "{w.report.pk}", "index": "0"}),
    # Datasets (of alice's team) ---------------------------------------------------------------
    "datasets:list": rule(PAGE),
    "datasets:create": rule(
        PAGE.but(dana=403, victor=403),
        post(
            TEAM.but(charlie=OWN_TEAMS_ONLY),
            lambda w: {
                "team": w.risk.pk,
                "name": "holdout",
                "version": "1",
                "kind": "evaluation",
                "file": w.parquet_upload(),
            },
        ),
    ),
    "datasets:dataset": rule(PAGE),
    "datasets:job": rule(PAGE),
    "datasets:cancel": rule(POST_ONLY, post(TEAM)),
    "datasets:download": rule(PAGE),
    "datasets:delete": rule(POST_ONLY, post(TEAM)),
    "datasets:validate": rule(PAGE),
    # The backlog: workers (Data scientists, Engineers, Approvers) of the item's team change
    # it; any worker comments; a Viewer reads.
    "backlog:board": rule(PAGE),
    "backlog:list": rule(PAGE),
    "backlog:list-csv": rule(PAGE),
    "backlog:item-create": rule(
        PAGE.but(victor=403),
        post(
            TEAM.but(charlie=OWN_TEAMS_ONLY, dana=OWN_TEAMS_ONLY),
            {
                "team": "{w.risk.pk}",
                "title": "Check the Q4 data",
                "kind": "task",
                "priority": "P2",
                "discipline": "both",
            },
        ),
    ),
    # Renders Markdown as it would be stored, for any worker; it stores nothing.
    "backlog:preview": rule(POST_ONLY, post(everyone(200, anonymous=LOGIN).but(victor=403))),
    "backlog:item": rule(PAGE, args={"pk": "{w.item.pk}"}),
    "backlog:item-edit": rule(TEAM_FORM, post(TEAM), args={"pk": "{w.item.pk}"}),
    "backlog:item-move": rule(
        POST_ONLY, post(TEAM, {"status": "in_progress"}), args={"pk": "{w.item.pk}"}
    ),
    "backlog:comment-add": rule(
        POST_ONLY,
        post(TEAM.but(charlie=302, dana=302), {"body": "Looks good."}),
        args={"pk": "{w.item.pk}"},
    ),
    "backlog:link-remove": rule(
        POST_ONLY, post(TEAM), args={"pk": "{w.item.pk}", "link_pk": "{w.link.pk}"}
    ),
    "backlog:iteration-list": rule(PAGE),
    # dana is in no team, so has no team to plan for.
    "backlog:iteration-create": rule(
        PAGE.but(dana=403, victor=403),
        post(
            TEAM.but(charlie=OWN_TEAMS_ONLY),
            {
                "team": "{w.risk.pk}",
                "name": "Sprint 8",
                "start_date": "2026-12-01",
                "end_date": "2026-12-12",
            },
        ),
    ),
    "backlog:iteration-current": rule(everyone(302, anonymous=LOGIN)),
    "backlog:iteration": rule(PAGE, args={"pk": "{w.iteration.pk}"}),
    "backlog:iteration-notes": rule(TEAM_FORM, post(TEAM), args={"pk": "{w.iteration.pk}"}),
    # Experiments ------------------------------------------------------------------------------
    "experiments:list": rule(PAGE),
    "experiments:detail": rule(PAGE, args={"pk": "{w.experiment.pk}"}),
    "experiments:compare": rule(
        PAGE, args={"pk": "{w.experiment.pk}"}, query={"runs": "{w.run.pk},{w.run2.pk}"}
    ),
    "experiments:direction": rule(
        POST_ONLY,
        post(TEAM, {"key": "loss", "direction": "max"}),
        args={"pk": "{w.experiment.pk}"},
    ),
    "experiments:run": rule(PAGE, args={"pk": "{w.run.pk}"}),
    "experiments-promote:run-promote": rule(TEAM_FORM, post(TEAM), args={"pk": "{w.run.pk}"}),
    # Notifications: each person's own; another's is a 404.
    "notifications:inbox": rule(PAGE),
    "notifications:read-all": rule(POST_ONLY, post(everyone(302, anonymous=LOGIN))),
    "notifications:read": rule(
        POST_ONLY,
        post(everyone(404, anonymous=LOGIN).but(alice=302)),
        args={"pk": "{w.notification.pk}"},
    ),
    # Feedback -------------------------------------------------------------------------------
    "feedback-analysis:model": rule(PAGE),
    "feedback-analysis:version": rule(PAGE),
    "feedback:inbox": rule(PAGE),
    "feedback:inbox-csv": rule(PAGE),
    "feedback:triage": rule(
        POST_ONLY, post(TEAM, {"feedback": "{w.feedback.pk}", "action": "review"})
    ),
    "feedback:model-inbox": rule(everyone(302, anonymous=LOGIN)),
    # The key list (names, prefixes and scopes, never a secret) is read by everyone.
    "feedback:keys": rule(
        PAGE, post(TEAM, {"name": "svc", "scopes": ["predictions"], "applies_to": "model"})
    ),
    "feedback:key-revoke": rule(POST_ONLY, post(TEAM), args={"pk": "{w.api_key.pk}"}),
    # Anyone signed in gives feedback on a prediction (feedback.services.access).
    "feedback:prediction": rule(
        PAGE,
        post(
            everyone(303, anonymous=LOGIN),
            {"verdict": "up", "nonce": "matrix-nonce-1"},
        ),
        args={"prediction_id": "p-0"},
    ),
    # Releases ---------------------------------------------------------------------------------
    "releases:list": rule(PAGE),
    "releases:detail": rule(PAGE, args={"pk": "{w.release.pk}"}),
    "releases:decide": rule(
        POST_ONLY,
        post(APPROVERS, {"decide-decision": "approve", "decide-comment": "ok"}),
        args={"pk": "{w.release.pk}"},
    ),
    # The requester or the team's authors.
    "releases:cancel": rule(
        POST_ONLY, post(TEAM, {"cancel-reason": ""}), args={"pk": "{w.release.pk}"}
    ),
    "releases:deployment": rule(
        POST_ONLY,
        post(DEPLOYERS, {"deployment-status": "started", "deployment-message": ""}),
        args={"pk": "{w.release.pk}"},
    ),
    "releases:promote": rule(POST_ONLY, post(DEPLOYERS), args={"pk": "{w.release.pk}"}),
    "releases:rollback": rule(
        POST_ONLY, post(DEPLOYERS, {"rollback-reason": "Errors."}), args={"pk": "{w.release.pk}"}
    ),
    # The team's authors request; an Approver opens it to override a blocking check.
    "releases:request": rule(
        PAGE.but(charlie=403, victor=403),
        post(
            TEAM,
            {
                "environment": "staging",
                "strategy": "full",
                "serving_mode": "realtime",
                "justification": "Better recall.",
                "rollback_plan": "Roll back from the release page.",
            },
        ),
    ),
    "releases:override": rule(
        POST_ONLY,
        post(
            APPROVERS,
            {"override-gates-environment": "staging", "override-gates-reason": "Tracked."},
        ),
        args={"check": "gates"},
    ),
    # Everyone reads the runbook; its model's authors change it.
    "releases:runbook": rule(PAGE, post(TEAM, {"body": "Served by churn-api."})),
    "releases:runbook-revisions": rule(PAGE),
    "releases:model-audit": rule(PAGE),
    "releases:model-audit-csv": rule(PAGE),
    "releases:delivery": rule(PAGE),
    "releases:audit": rule(PAGE),
    "releases:audit-csv": rule(PAGE),
    # The form offers the teams and environments one configures: alice's team is not
    # charlie's, nor dana's (who configures environments); a Viewer configures nothing.
    "releases:webhooks": rule(
        PAGE,
        post(
            TEAM.but(charlie=OWN_TEAMS_ONLY, dana=OWN_TEAMS_ONLY),
            {"webhook-target": "team:{w.risk.slug}", "webhook-url": "https://cd.example.com/h"},
        ),
    ),
    # Someone else's webhook is the service's 403, not a 404 (the view says why).
    "releases:webhook-delete": rule(POST_ONLY, post(TEAM), args={"pk": "{w.webhook.pk}"}),
    "releases:delivery-resend": rule(POST_ONLY, post(DEPLOYERS), args={"pk": "{w.delivery.pk}"}),
}
