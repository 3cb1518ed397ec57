"""The Graph dialect's request pipeline: authenticate, check scope, dispatch, map errors."""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from callscope.api.errors import status_of
from callscope.api.graph.context import GraphContext, parse_prefer
from callscope.api.graph.hot_cache import HINT
from callscope.api.graph.responses import error_body, json_response
from callscope.auth.principal import Principal
from callscope.auth.tokens import TokenVerifier
from callscope.errors import CallscopeError, MethodNotAllowed

log = logging.getLogger("callscope.api")
Handler = Callable[[Request, Principal], Awaitable[Response]]
Explain = Callable[[BaseException], CallscopeError | None]


class GraphPipeline:
    """Wraps handlers so that every answer, good or bad, is in Graph's shape."""

    def __init__(self, verifier: TokenVerifier, public_base_url: str | None, explain: Explain) -> None:
        self._verifier = verifier
        self._public_base_url = public_base_url
        self._explain = explain

    def endpoint(
        self, handler: Handler, scopes: frozenset[str], methods: frozenset[str] = frozenset({"GET"})
    ) -> Callable[[Request], Awaitable[Response]]:
        """A Starlette endpoint running `handler` behind authentication and `scopes`."""

        async def run(request: Request) -> Response:
            request_id = str(uuid.UUID(int=random.getrandbits(128), version=4))  # not a secret: no urandom
            client_request_id = request.headers.get("client-request-id")
            try:
                principal = self._verifier.verify(request.headers.get("authorization"))
                hint = request.scope.get(HINT)
                if hint is not None:
                    hint.token_expires = principal.expires_at
                if request.method not in methods:
                    raise MethodNotAllowed(f"The method {request.method} is not allowed on this resource.")
                principal.require_any(scopes)
                response = await handler(request, principal)
            except CallscopeError as error:
                response = self._error(error, request_id, client_request_id)
            except Exception as exc:
                fault = self._explain(exc)
                if fault is None:
                    log.exception("unexpected error, request-id %s", request_id)
                    fault = CallscopeError("An unexpected error occurred.")
                    fault.code = "InternalServerError"
                response = self._error(fault, request_id, client_request_id)
            response.headers["request-id"] = request_id
            if client_request_id:
                response.headers["client-request-id"] = client_request_id
            return response

        return run

    def _error(self, error: CallscopeError, request_id: str, client_request_id: str | None) -> Response:
        status = status_of(error)
        headers = {"WWW-Authenticate": 'Bearer realm="callscope"'} if status == 401 else None
        if status == 503:
            headers = {"Retry-After": "1"}
        return json_response(error_body(error, request_id, client_request_id), status, headers)

    def context(self, request: Request, principal: Principal, version: str) -> GraphContext:
        """The Graph context of a request."""
        include_unknown, max_page = parse_prefer(request.headers.getlist("prefer"))
        base = self._public_base_url or f"{request.url.scheme}://{request.url.netloc}"
        return GraphContext(
            version=version,
            tenant_id=principal.tenant_id,
            base_url=base.rstrip("/"),
            params=dict(request.query_params),
            include_unknown_enums=include_unknown,
            max_page_size=max_page,
            cache_hint=request.scope.get(HINT),
        )
