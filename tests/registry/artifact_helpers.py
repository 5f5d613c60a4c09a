"""Helpers for the artifact tests: uploads, stored files, a validation run as a worker does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from registry.models import Artifact
from registry.services.artifacts import store_artifact

EXPLICIT_INPUT = {
    "type": "object",
    "properties": {"amount": {"type": "number"}},
    "required": ["amount"],
}
EXPLICIT_OUTPUT = {"type": "object", "properties": {"score": {"type": "number"}}}


def upload(data: bytes, name: str = "model.onnx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def store_and_run(actor: Any, version: Any, data: bytes, capture: Any) -> Artifact:
    """Upload, then run the on-commit validation the way a worker would."""
    with capture(execute=True):
        artifact = store_artifact(actor=actor, version=version, upload=upload(data))
    artifact.refresh_from_db()
    return artifact
