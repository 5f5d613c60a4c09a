"""Uploads for the dataset tests: the churn table as CSV or Parquet bytes, files that are
neither, and ``upload(...)``: the service call with every field defaulted."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.evaluation.models import Dataset
from registry.evaluation.services.datasets import create_dataset
from tests.evaluation.data import classifier_onnx, table

# A PNG's signature and the start of its header chunk: binary, with NUL bytes.
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06" + bytes(
    64
)


def csv_bytes(rows: int = 200, seed: int = 0) -> bytes:
    sink = io.BytesIO()
    pa_csv.write_csv(table(rows, seed), sink)
    return sink.getvalue()


def parquet_bytes(rows: int = 200, seed: int = 0) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table(rows, seed), sink)
    return sink.getvalue()


def onnx_bytes() -> bytes:
    return classifier_onnx()


def file_upload(data: bytes, name: str = "churn.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def upload(actor: Any, team: Any, data: bytes | None = None, **fields: Any) -> Dataset:
    """``create_dataset`` with the churn table as CSV and defaults for every field."""
    values: dict[str, Any] = {
        "name": "churn-eval",
        "version": "1",
        "kind": "evaluation",
        "description": "Customers of 2026",
        "upload": file_upload(csv_bytes() if data is None else data),
    }
    values.update(fields)
    return create_dataset(actor=actor, team=team, **values)


def stored_files(media_root: Path) -> list[str]:
    """Every file under the media root's datasets folder, relative to it."""
    folder = media_root / "datasets"
    if not folder.exists():
        return []
    return sorted(str(path.relative_to(media_root)) for path in folder.rglob("*") if path.is_file())
