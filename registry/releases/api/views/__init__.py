"""The releases API: environments, what runs where (for the CD pipeline), release requests
and their moves, the pipeline's deployment callbacks, and release webhooks.

Views parse the request, call one service and show the result: every rule (who may decide,
distinct approvers, the checklist, which state a release may move to) is the services',
so the API, the pages and any other client obey the same ones. Everyone signed in reads.
The CD pipeline authenticates with a model's API key that has the ``deployments:write``
scope (``Authorization: ApiKey <key>``); people with a personal token or a session.

One module per noun: ``environments``, ``releases`` and ``webhooks``; ``common`` holds the ids
in paths, the pipeline's authentication and the body helper they share.
"""

from registry.releases.api.views.environments import EnvironmentListView, WhatRunsView
from registry.releases.api.views.releases import ReleaseViewSet
from registry.releases.api.views.webhooks import ReleaseWebhookViewSet, WebhookDeliveryViewSet

__all__ = [
    "EnvironmentListView",
    "ReleaseViewSet",
    "ReleaseWebhookViewSet",
    "WebhookDeliveryViewSet",
    "WhatRunsView",
]
