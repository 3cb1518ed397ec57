"""Graph's response shapes: JSON bodies, collections with nextLinks, and the error envelope."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import msgspec
from starlette.responses import Response

from callscope.errors import CallscopeError

JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
_encode = msgspec.json.Encoder().encode


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A Graph JSON response."""
    return Response(_encode(body), status_code=status, headers=headers, media_type=JSON_TYPE)


def text_response(text: str) -> Response:
    """A `text/plain` response (what `$count` answers)."""
    return Response(text, media_type="text/plain; charset=utf-8")


def collection(
    context: str,
    items: list[Any],
    next_link: str | None,
    count: int | None = None,
) -> dict[str, Any]:
    """A collection body: `@odata.context`, optional `@odata.count`, `value`, `@odata.nextLink`."""
    body: dict[str, Any] = {"@odata.context": context}
    if count is not None:
        body["@odata.count"] = count
    body["value"] = items
    if next_link is not None:
        body["@odata.nextLink"] = next_link
    return body


def link(base: str, path: str, params: Mapping[str, str]) -> str:
    """An absolute URL with its query string (`$` kept readable, the rest encoded)."""
    query = urlencode(params, safe="$(),;=:'")
    return f"{base}{path}" + (f"?{query}" if query else "")


def error_body(error: CallscopeError, request_id: str, client_request_id: str | None) -> dict[str, Any]:
    """The Graph error envelope for an error."""
    # The official OpenAPI makes `@odata.type` a required member of innerError.
    inner: dict[str, Any] = {
        "@odata.type": "#microsoft.graph.ODataErrors.InnerError",
        "request-id": request_id,
        "date": _now(),
    }
    if client_request_id:
        inner["client-request-id"] = client_request_id
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.target:
        body["target"] = error.target
    body["innerError"] = inner
    return {"error": body}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
