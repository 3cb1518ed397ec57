"""callscope's own ingestion endpoint: other systems POST Graph-shaped JSON Lines."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from callscope.api.graph.responses import json_response
from callscope.auth.principal import Principal
from callscope.domain.integers import non_negative
from callscope.errors import InvalidRequest, PayloadTooLarge
from callscope.services.ingestion import Ingestion

ACCEPTED_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-lines", "application/json")


class IngestEndpoint:
    """`POST /callscope/ingest`: import a JSON Lines body for the caller's tenant."""

    def __init__(self, ingestion: Ingestion, max_body_bytes: int) -> None:
        self._ingestion = ingestion
        self._max_body_bytes = max_body_bytes

    async def post(self, request: Request, principal: Principal) -> Response:
        """Import every line, or none of them."""
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in ACCEPTED_TYPES:
            raise InvalidRequest(
                f"Content-Type must be one of {', '.join(ACCEPTED_TYPES)}, not '{media_type}'.",
                target="Content-Type",
            )
        body = await self._read_body(request)
        result = await run_in_threadpool(self._ingestion.import_lines, principal.tenant_id, body.splitlines())
        return json_response(result.as_dict())

    async def _read_body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length")
        length = non_negative(declared or "")
        if length is not None and length > self._max_body_bytes:
            raise PayloadTooLarge(f"The request body is larger than {self._max_body_bytes} bytes.")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self._max_body_bytes:
                raise PayloadTooLarge(f"The request body is larger than {self._max_body_bytes} bytes.")
            chunks.append(chunk)
        return b"".join(chunks)
