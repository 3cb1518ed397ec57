"""`/{version}/subscriptions`: change notifications for call records, as Graph offers them."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from callscope.api.graph.responses import json_response
from callscope.auth.principal import Principal
from callscope.domain.subscriptions import as_graph
from callscope.errors import InvalidRequest, PayloadTooLarge
from callscope.services.offload import Offload
from callscope.services.subscriptions import Subscriptions

MAX_BODY = 64 * 1024


class SubscriptionEndpoints:
    """Create, list, read, renew and delete subscriptions of the caller's tenant."""

    def __init__(self, subscriptions: Subscriptions, offload: Offload) -> None:
        self._offload = offload
        self._subscriptions = subscriptions

    async def collection(self, request: Request, principal: Principal) -> Response:
        """GET lists; POST creates (201) after the validation handshake."""
        context = _context(request, "subscriptions")
        if request.method == "POST":
            body = await _body(request)
            created = await self._subscriptions.create(principal.tenant_id, principal.subject, body)
            return json_response({"@odata.context": f"{context}/$entity", **as_graph(created)}, 201)
        found = await self._offload(self._subscriptions.list, principal.tenant_id)
        return json_response({"@odata.context": context, "value": [as_graph(s) for s in found]})

    async def item(self, request: Request, principal: Principal) -> Response:
        """GET, PATCH (renew) or DELETE one subscription."""
        subscription_id = request.path_params["id"]
        tenant_id = principal.tenant_id
        if request.method == "DELETE":
            await self._offload(self._subscriptions.delete, tenant_id, subscription_id)
            return Response(status_code=204)
        if request.method == "PATCH":
            body = await _body(request)
            found = await self._offload(self._subscriptions.renew, tenant_id, subscription_id, body)
        else:
            found = await self._offload(self._subscriptions.get, tenant_id, subscription_id)
        return json_response({"@odata.context": f"{_context(request, 'subscriptions')}/$entity", **as_graph(found)})


def _context(request: Request, fragment: str) -> str:
    version = request.url.path.strip("/").split("/")[0]
    return f"{request.url.scheme}://{request.url.netloc}/{version}/$metadata#{fragment}"


async def _body(request: Request) -> Any:
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise PayloadTooLarge("The request body is too large.")
    try:
        return msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError) as exc:  # msgspec raises RecursionError past ~1,000 levels
        raise InvalidRequest(f"The body is not valid JSON: {exc}", target="body") from exc
