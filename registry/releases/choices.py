"""The states and choices of releases; the transitions a service may make."""

from __future__ import annotations

from django.db import models


class State(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    APPROVED = "approved", "Approved"
    DEPLOYING = "deploying", "Deploying"
    DEPLOYED = "deployed", "Deployed"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"
    ROLLED_BACK = "rolled_back", "Rolled back"


class Strategy(models.TextChoices):
    FULL = "full", "Full: all traffic at once"
    CANARY = "canary", "Canary: traffic in steps"
    SHADOW = "shadow", "Shadow: mirrored traffic, answers not served"


class ServingMode(models.TextChoices):
    REALTIME = "realtime", "Real-time API"
    BATCH = "batch", "Batch job"


class Decision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


class Check(models.TextChoices):
    """The checklist a request snapshots; each may block submission."""

    GATES = "gates", "Quality gates"
    COMPLETENESS = "completeness", "Card completeness"
    CONTRACT = "contract", "Contract changes"
    OPEN_ITEMS = "open_items", "Open P0/P1 items"
    DRIFT = "drift", "Drift of the version in the environment"
    RUNBOOK = "runbook", "Operations runbook"


TRANSITIONS: dict[str, set[str]] = {
    State.PENDING: {State.APPROVED, State.REJECTED, State.CANCELLED},
    # Back to pending when a change to the version dismisses the approvals.
    State.APPROVED: {State.PENDING, State.DEPLOYING, State.DEPLOYED, State.CANCELLED, State.FAILED},
    State.DEPLOYING: {State.DEPLOYED, State.FAILED},
    State.DEPLOYED: {State.ROLLED_BACK},
}
OPEN_STATES = {State.PENDING, State.APPROVED, State.DEPLOYING}
FINAL_STATES = {State.REJECTED, State.CANCELLED, State.FAILED, State.ROLLED_BACK}
