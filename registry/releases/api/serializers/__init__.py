"""Serializers of the releases API: environments, what runs where, release requests (a row in
the list, whole on their own), the bodies of their moves, release webhooks and their
deliveries. One module per part; ``fields`` holds the named choice fields they share.
"""

from registry.releases.api.serializers.environments import (
    EnvironmentSerializer,
    WhatRunsSerializer,
)
from registry.releases.api.serializers.moves import (
    CommentSerializer,
    DeploymentStatusSerializer,
    PromoteSerializer,
    ReasonSerializer,
    ReleaseCreateSerializer,
)
from registry.releases.api.serializers.releases import (
    ReleaseRowSerializer,
    ReleaseSerializer,
    release_api_url,
)
from registry.releases.api.serializers.webhooks import (
    ReleaseWebhookCreateSerializer,
    ReleaseWebhookSerializer,
    WebhookDeliverySerializer,
)

__all__ = [
    "CommentSerializer",
    "DeploymentStatusSerializer",
    "EnvironmentSerializer",
    "PromoteSerializer",
    "ReasonSerializer",
    "ReleaseCreateSerializer",
    "ReleaseRowSerializer",
    "ReleaseSerializer",
    "ReleaseWebhookCreateSerializer",
    "ReleaseWebhookSerializer",
    "WebhookDeliverySerializer",
    "WhatRunsSerializer",
    "release_api_url",
]
