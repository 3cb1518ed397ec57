"""The UCWA dialect's request pipeline: negotiate JSON or XML, authenticate, map errors once."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from callscope.api.errors import status_of
from callscope.api.ucwa.formats import JSON_TYPES, error_body, negotiate, parse_input, render
from callscope.api.ucwa.resources import Resource
from callscope.auth.principal import Principal
from callscope.auth.tokens import TokenVerifier
from callscope.domain.users import sip_uri
from callscope.errors import CallscopeError, Gone, MethodNotAllowed, PayloadTooLarge, Throttled, Unavailable

log = logging.getLogger("callscope.ucwa")
MAX_INPUT_BYTES = 1024 * 1024
OAUTH_PATH = "/webticket/oauthtoken"


@dataclass(frozen=True)
class UcwaRequest:
    """A UCWA request after negotiation and authentication."""

    request: Request
    media_type: str
    principal: Principal

    @property
    def user_uri(self) -> str:
        """The caller as a SIP URI (`sip:` + the token's subject)."""
        subject = self.principal.subject
        return sip_uri(subject) if "@" in subject else f"sip:{subject}"

    async def input(self) -> dict[str, object]:
        """The request's input, body and query string, names lower-cased."""
        body = b""
        async for chunk in self.request.stream():
            body += chunk
            if len(body) > MAX_INPUT_BYTES:
                raise PayloadTooLarge("The request body is too large.")
        return parse_input(body, self.request.headers.get("content-type"), self.request.query_params)

    def respond(self, resource: Resource, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        """A resource in the negotiated format."""
        return Response(render(resource, self.media_type), status, headers, media_type=self.media_type)


Handler = Callable[[UcwaRequest], Awaitable[Response]]
Explain = Callable[[BaseException], CallscopeError | None]


class RateLimiter:
    """A token bucket per user: `rate` requests a second on average, bursts up to `burst`."""

    def __init__(self, rate: float, burst: float) -> None:
        self._rate = rate
        self._burst = burst
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}

    def take(self, principal: Principal) -> None:
        """Spend one token, or raise Throttled (429 with Retry-After)."""
        key = (principal.tenant_id, principal.subject)
        now = time.monotonic()
        tokens, last = self._buckets.get(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            raise Throttled("Too many requests; slow down.", subcode="LimitExceeded")
        self._buckets[key] = (tokens - 1, now)


class UcwaPipeline:
    """Wraps UCWA handlers so that every answer, good or bad, is in UCWA's shape."""

    def __init__(self, verifier: TokenVerifier, limiter: RateLimiter, explain: Explain) -> None:
        self._verifier = verifier
        self._limiter = limiter
        self._explain = explain

    def endpoint(
        self, handlers: Mapping[str, Handler], scopes: frozenset[str] = frozenset()
    ) -> Callable[[Request], Awaitable[Response]]:
        """A Starlette endpoint dispatching by method, behind negotiation, authentication and `scopes`."""

        async def run(request: Request) -> Response:
            media_type = JSON_TYPES[0]
            try:
                media_type = negotiate(request.headers.get("accept"))
                principal = self._verifier.verify(request.headers.get("authorization"))
                self._limiter.take(principal)
                handler = handlers.get(request.method)
                if handler is None:
                    raise MethodNotAllowed(f"{request.method} is not allowed on this resource.")
                principal.require_any(scopes)
                return await handler(UcwaRequest(request, media_type, principal))
            except CallscopeError as error:
                return self.error(request, error, media_type)
            except ClientDisconnect:  # gone before its body arrived: nothing was done, nobody to answer
                return Response(status_code=400)
            except Exception as exc:
                explained = self._explain(exc)
                if explained is None:
                    log.exception("unexpected error in %s %s", request.method, request.url.path)
                    explained = CallscopeError("An unexpected error occurred.")
                return self.error(request, explained, media_type)

        return run

    def error(self, request: Request, error: CallscopeError, media_type: str) -> Response:
        """UCWA's error body; a 401 also carries the sign-in challenge."""
        if isinstance(error, Unavailable):  # UCWA's pool that can neither serve nor hand over
            error = Gone(
                f"{error.message} No backup pool is configured; discover again later.", subcode="CannotRedirect"
            )
        status = status_of(error)
        headers = {}
        if status == 401:
            headers["WWW-Authenticate"] = challenge(request)
        if status in (429, 503):
            headers["Retry-After"] = "1"
        return Response(error_body(error, media_type), status, headers, media_type=media_type)


def challenge(request: Request) -> str:
    """The `MsRtcOAuth` challenge that names the token endpoint, as UCWA clients parse it."""
    token_url = f"{request.url.scheme}://{request.url.netloc}{OAUTH_PATH}"
    return f'MsRtcOAuth href="{token_url}",grant_type="password"'
