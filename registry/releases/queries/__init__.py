"""Read paths of the release pages: one function per page, a fixed number of queries however
many releases, approvals, steps or events there are (pinned in tests/releases/test_pages.py).

One module per part: ``release_list`` (the list's shared FilterSet, "waiting for me", the
request form's environments), ``release_detail`` (the release page, which also gives
``portal.activity`` the links of releases, as ``activity_links`` here), ``panels`` (what
runs where, the home page's waiting approvals), ``runbooks``, ``audit`` (its filters, events
and CSV) and ``delivery``.
"""

from registry.releases.queries.audit import AuditFilterSet, audit_csv_rows, audit_queryset
from registry.releases.queries.delivery import delivery_page
from registry.releases.queries.panels import waiting_panel, what_runs_where
from registry.releases.queries.release_detail import activity_links, release_page, release_queryset
from registry.releases.queries.release_list import (
    ReleaseFilterSet,
    environments,
    needed_approvals,
    pick_environment,
    release_list_queryset,
)
from registry.releases.queries.runbooks import current_runbook, runbook_revisions

__all__ = [
    "AuditFilterSet",
    "ReleaseFilterSet",
    "activity_links",
    "audit_csv_rows",
    "audit_queryset",
    "current_runbook",
    "delivery_page",
    "environments",
    "needed_approvals",
    "pick_environment",
    "release_list_queryset",
    "release_page",
    "release_queryset",
    "runbook_revisions",
    "waiting_panel",
    "what_runs_where",
]
