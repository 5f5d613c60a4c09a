"""Artifacts MLflow clients upload: files under a run's or a logged model's folder, kept in
Django's storage under ``mlflow-artifacts/``.

A path comes from the client, so it is read, never trusted: it must name an experiment, a
run of it (or a logged model of it) and ``artifacts``, and what follows is made of plain
names only. ``..``, ``.``, empty segments, absolute paths, backslashes and control characters
are refused before any file is touched, so nothing is read or written outside that folder.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import default_storage

from portal.people import Person
from registry.experiments.models import Experiment, Run
from registry.experiments.permissions import can_log
from registry.mlflow_api.lookups import as_id, experiment_numbered
from registry.mlflow_api.models import LoggedModel

ROOT = "mlflow-artifacts"
MAX_PATH = 1000
CHUNK = 1024 * 1024
_SEGMENT = re.compile(r"[^\x00-\x1f\x7f\\/]{1,255}")


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class Place:
    """A checked artifact path: whose folder it is in, and the file or folder under it."""

    experiment: Experiment
    owner: str  # "<run id>" or "models/<model id>": the folder's name under the experiment
    relative: str  # "" for the folder itself

    @property
    def storage_name(self) -> str:
        folder = f"{ROOT}/{self.experiment.pk}/{self.owner}/artifacts"
        return f"{folder}/{self.relative}" if self.relative else folder

    @property
    def uri_path(self) -> str:
        """The path as the client writes it after ``mlflow-artifacts:/``."""
        return self.storage_name.removeprefix(f"{ROOT}/")


def run_root(run: Run) -> str:
    return f"mlflow-artifacts:/{run.experiment_id}/{run.pk}/artifacts"


def model_root(model: LoggedModel) -> str:
    return f"mlflow-artifacts:/{model.experiment_id}/models/{model.model_id}/artifacts"


def place(path: str) -> Place:
    """The place ``path`` names (``<exp>/<run>/artifacts/<file>`` or
    ``<exp>/models/<model id>/artifacts/<file>``); ValidationError when it names anything else
    and ObjectDoesNotExist when the run or model is not there."""
    if len(path) > MAX_PATH:
        raise ValidationError({"path": f"An artifact path is at most {MAX_PATH} characters."})
    decoded = _decoded(path)
    if any(text.startswith("/") or re.match(r"[A-Za-z]:", text) for text in (path, decoded)):
        raise ValidationError({"path": "An artifact path is relative, never absolute."})
    parts = path.rstrip("/").split("/") if path.rstrip("/") else []
    if len(parts) < 3:
        raise ValidationError(
            {"path": "Expected <experiment>/<run>/artifacts/... or <experiment>/models/<id>/..."}
        )
    for part in parts + decoded.rstrip("/").split("/"):
        if part in (".", "..") or not _SEGMENT.fullmatch(part):
            raise ValidationError(
                {
                    "path": f"{part[:40]!r} is not allowed in an artifact path (no '..', '.', "
                    "empty parts, backslashes or control characters)."
                }
            )
    experiment = _experiment(parts[0])
    if parts[1] == "models":
        if len(parts) < 4 or parts[3] != "artifacts":
            raise ValidationError({"path": "Expected <experiment>/models/<id>/artifacts/..."})
        model = LoggedModel.objects.filter(model_id=parts[2], experiment=experiment).first()
        if model is None:
            raise ObjectDoesNotExist(f"Logged model {parts[2]!r} not found in that experiment.")
        return Place(experiment, f"models/{model.model_id}", "/".join(parts[4:]))
    if parts[2] != "artifacts":
        raise ValidationError({"path": "Expected <experiment>/<run>/artifacts/..."})
    run_id = as_id(parts[1])
    if not run_id or not Run.objects.filter(pk=run_id, experiment=experiment).exists():
        raise ObjectDoesNotExist(f"Run {parts[1]!r} not found in experiment {experiment.pk}.")
    return Place(experiment, str(run_id), "/".join(parts[3:]))


def _decoded(path: str) -> str:
    """``path`` percent-decoded until it stops changing, so ``%2e%2e`` or ``%252e%252e``
    cannot pass as a name and become ``..`` in a later decoding, as MLflow's server checks."""
    for _ in range(10):
        decoded = unquote(path)
        if decoded == path:
            break
        path = decoded
    return path


def _experiment(text: str) -> Experiment:
    experiment = experiment_numbered(text)
    if experiment is None:
        raise ObjectDoesNotExist(f"Experiment {text!r} does not exist.")
    return experiment


def upload(*, actor: Person, where: Place, body: Readable) -> int:
    """Store the request body at ``where`` (replacing a file there); its size in bytes.

    The body is copied to a temporary file first and stopped at the upload cap, so a refused
    upload leaves the stored file as it was.
    """
    if not can_log(actor, where.experiment.team):
        raise PermissionDenied(
            f"Only {where.experiment.team}'s Data scientists and Engineers may upload here."
        )
    if not where.relative:
        raise ValidationError({"path": "Name the file to upload under artifacts/."})
    limit = int(settings.HANDOFF_MAX_UPLOAD_BYTES)
    with tempfile.TemporaryFile() as spool:
        size = 0
        while chunk := body.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise ValidationError({"file": f"An artifact is at most {limit:,} bytes."})
            spool.write(chunk)
        spool.seek(0)
        name = where.storage_name
        if default_storage.exists(name):
            default_storage.delete(name)
        saved = default_storage.save(name, File(spool))
        if saved != name:  # another upload won the race for the name: keep one file
            default_storage.delete(saved)
    return size


@dataclass(frozen=True)
class Entry:
    name: str  # within the folder listed
    is_dir: bool
    size: int | None


def listing(where: Place) -> list[Entry]:
    """The files and folders directly under ``where`` (none when it is a file or missing)."""
    name = where.storage_name
    try:
        folders, files = default_storage.listdir(name)
    except (FileNotFoundError, NotADirectoryError):
        return []
    entries = [Entry(folder, True, None) for folder in sorted(folders)]
    entries += [
        Entry(file, False, default_storage.size(f"{name}/{file}")) for file in sorted(files)
    ]
    return entries


def walk(where: Place) -> Iterator[str]:
    """Every file under ``where``, as a path relative to it."""
    stack = [""]
    while stack:
        sub = stack.pop()
        folder = f"{where.storage_name}/{sub}".rstrip("/")
        try:
            folders, files = default_storage.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            continue
        stack += [f"{sub}{f}/" for f in folders]
        yield from (f"{sub}{f}" for f in files)


def opened(where: Place) -> File:
    name = where.storage_name
    if not where.relative or not default_storage.exists(name):
        raise ObjectDoesNotExist(f"No artifact at {where.relative or '(the folder)'}.")
    try:
        return default_storage.open(name, "rb")
    except IsADirectoryError:
        raise ObjectDoesNotExist(f"{where.relative} is a folder, not a file.") from None


def delete(*, actor: Person, where: Place) -> None:
    if not can_log(actor, where.experiment.team):
        raise PermissionDenied(
            f"Only {where.experiment.team}'s Data scientists and Engineers may delete here."
        )
    if where.relative and default_storage.exists(where.storage_name):
        default_storage.delete(where.storage_name)
