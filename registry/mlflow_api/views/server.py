"""What the 3.x client asks the server about itself before downloading a model."""

from __future__ import annotations

from typing import Any

from registry.mlflow_api.http import Call, endpoint


@endpoint("GET")
def info(call: Call) -> dict[str, Any]:
    return {"store_type": "SqlStore"}
