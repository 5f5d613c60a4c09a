"""The release pages; ``registry.releases.urls`` routes to these names."""

from registry.releases.views.audit import audit_csv, audit_log
from registry.releases.views.delivery import delivery
from registry.releases.views.detail import (
    release_cancel,
    release_decide,
    release_deployment,
    release_detail,
    release_promote,
    release_rollback,
)
from registry.releases.views.lists import release_list
from registry.releases.views.requests import release_override, release_request
from registry.releases.views.runbooks import runbook_edit, runbook_history
from registry.releases.views.webhooks import delivery_resend, webhook_delete, webhooks

__all__ = [
    "audit_csv",
    "audit_log",
    "delivery",
    "delivery_resend",
    "release_cancel",
    "release_decide",
    "release_deployment",
    "release_detail",
    "release_list",
    "release_override",
    "release_promote",
    "release_request",
    "release_rollback",
    "runbook_edit",
    "runbook_history",
    "webhook_delete",
    "webhooks",
]
