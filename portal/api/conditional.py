"""ETag and If-Match for API resources that people edit (optimistic concurrency).

A resource's ETag is its row's revision. A write that sends ``If-Match`` with an older
ETag is refused with 409 (``portal.concurrency.StaleEdit``); ``If-Match: *`` or no header
writes whatever the current revision is.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def etag_for(revision: int) -> str:
    return f'"{revision}"'


def with_etag(response: Response, row: Any) -> Response:
    response["ETag"] = etag_for(row.revision)
    return response


def if_match_revision(request: Request) -> int | None:
    """The revision named by If-Match, None for none or ``*``; 400 when it is not ours."""
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return None
    tag = header.split(",")[0].strip().removeprefix("W/")
    if len(tag) >= 3 and tag[0] == tag[-1] == '"' and tag[1:-1].isascii() and tag[1:-1].isdigit():
        return int(tag[1:-1])
    raise serializers.ValidationError(
        {"If-Match": ['Send the ETag you read, e.g. If-Match: "3", or * to overwrite.']}
    )
