"""The releases API: environments and what runs in them, release requests and their moves,
deployment callbacks from the CD pipeline, and release webhooks (docs/api.md, "Releases")."""
