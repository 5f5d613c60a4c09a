"""Downloads: always attachments, never sniffed; artifacts carry their checksum."""

from django.http import FileResponse, HttpResponse

from registry.models import Artifact, ModelVersion
from registry.services.card_readme import export_card_readme


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


def card_readme_response(version: ModelVersion) -> HttpResponse:
    """The card as a README.md download."""
    response = HttpResponse(
        export_card_readme(version.card), content_type="text/markdown; charset=utf-8"
    )
    filename = f"{version.model.name}-{version.version}-README.md"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
