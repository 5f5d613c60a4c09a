"""The ``mlflow-artifacts`` endpoints: upload, list and download a run's or a logged
model's files (``registry.mlflow_api.services.artifacts`` checks every path)."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from django.http.response import HttpResponseBase

from registry.mlflow_api.http import Call, endpoint
from registry.mlflow_api.services import artifacts


@endpoint("GET", "PUT", "DELETE", body=False)
def one(call: Call, path: str) -> HttpResponseBase | dict[str, Any]:
    where = artifacts.place(path)
    if call.request.method == "PUT":
        artifacts.upload(actor=call.writer(), where=where, body=call.request)
        return {}
    if call.request.method == "DELETE":
        artifacts.delete(actor=call.writer(), where=where)
        return {}
    response = FileResponse(artifacts.opened(where), content_type="application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@endpoint("GET")
def listing(call: Call) -> dict[str, Any]:
    path = call.text("path", required=False)
    if not path:
        return {"files": []}
    entries = artifacts.listing(artifacts.place(path))
    files = []
    for entry in entries:
        shown: dict[str, Any] = {"path": entry.name, "is_dir": entry.is_dir}
        if entry.size is not None:
            shown["file_size"] = entry.size
        files.append(shown)
    return {"files": files}
