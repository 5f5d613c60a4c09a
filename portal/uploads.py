"""Upload size caps.

Django caps form fields (DATA_UPLOAD_MAX_MEMORY_SIZE) but not file data. Two guards:
``portal.request_limits.RequestLimitMiddleware`` answers 413 to a multipart body whose
declared length is over ``upload_limit() + FRAMING_ALLOWANCE`` before anything reads it, and
``SizeCappedUploadHandler`` (first in FILE_UPLOAD_HANDLERS) stops a body that grows past the
cap while streaming. Raising from a parser inside middleware would surface as a 500, so the
handler marks the request instead; views call ``upload_too_large(request)`` and answer 413
naming the limit.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

_FLAG = "handoff_upload_too_large"
# Multipart framing (boundaries, part headers, small form fields) on top of the file itself.
FRAMING_ALLOWANCE = 64 * 1024


def upload_limit() -> int:
    return int(settings.HANDOFF_MAX_UPLOAD_BYTES)


def upload_too_large(request: HttpRequest) -> bool:
    """True when this request's upload was stopped at the cap (parses the body if needed)."""
    if request.method == "POST" and request.content_type == "multipart/form-data":
        request.POST  # noqa: B018 - parsing runs the upload handlers
    return bool(getattr(request, _FLAG, False))


def upload_was_stopped(request: HttpRequest) -> bool:
    """True when the streaming cap stopped this request's upload (no parsing here)."""
    return bool(getattr(request, _FLAG, False))


def limit_message() -> str:
    return f"The upload is larger than the limit of {upload_limit():,} bytes."


class SizeCappedUploadHandler(FileUploadHandler):
    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.received = 0

    def _refuse(self) -> None:
        if self.request is not None:
            setattr(self.request, _FLAG, True)
        raise StopUpload(connection_reset=False)

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: Any,
        encoding: str | None = None,
    ) -> None:
        if content_length and content_length > upload_limit() + FRAMING_ALLOWANCE:
            setattr(self.request, _FLAG, True)
        return None

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        if getattr(self.request, _FLAG, False):
            self._refuse()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > upload_limit():
            self._refuse()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
