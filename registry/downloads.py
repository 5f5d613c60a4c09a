"""Serving stored artifacts: always as attachments, never sniffed, checksum attached."""

from django.http import FileResponse

from registry.models import Artifact


def artifact_response(artifact: Artifact) -> FileResponse:
    version = artifact.version
    response = FileResponse(
        artifact.file.open("rb"),
        as_attachment=True,
        filename=f"{version.model.name}-{version.version}.onnx",
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Checksum-SHA256"] = artifact.sha256
    return response
