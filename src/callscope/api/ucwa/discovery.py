"""Discovery and sign-in: the autodiscover root, the user resource, and the token endpoint."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from callscope.api.ucwa.formats import JSON_TYPES, negotiate, render
from callscope.api.ucwa.pipeline import UcwaPipeline, UcwaRequest
from callscope.api.ucwa.resources import Resource
from callscope.auth.tokens import SigningKey, issue_token
from callscope.errors import CallscopeError, Unauthenticated
from callscope.services.users import USER_SCOPES, Users

ROOT_PATH = "/autodiscover/autodiscoverservice.svc/root"
USER_PATH = f"{ROOT_PATH}/oauth/user"
APPLICATIONS_PATH = "/ucwa/oauth/v1/applications"
TOKEN_LIFETIME = 8 * 3600  # what UCWA's web tickets last


class Discovery:
    """The unauthenticated front door of the live-calls API."""

    def __init__(self, pipeline: UcwaPipeline, users: Users, key: SigningKey) -> None:
        self._pipeline = pipeline
        self._users = users
        self._key = key

    async def root(self, request: Request) -> Response:
        """Links to the user resource; anyone may read it."""
        try:
            media_type = negotiate(request.headers.get("accept"))
        except CallscopeError as error:
            return self._pipeline.error(request, error, JSON_TYPES[0])
        base = _base(request)
        resource = Resource("root", f"{base}{ROOT_PATH}").link("user", f"{base}{USER_PATH}")
        return Response(render(resource, media_type), media_type=media_type)

    async def user(self, ucwa: UcwaRequest) -> Response:
        """With a valid token: the link to `applications`."""
        base = _base(ucwa.request)
        resource = Resource("user", f"{base}{USER_PATH}").link("applications", f"{base}{APPLICATIONS_PATH}")
        return ucwa.respond(resource)

    async def token(self, request: Request) -> Response:
        """OAuth 2.0 resource-owner password grant, as UCWA clients send it."""
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        if form.get("grant_type") != "password":
            return _oauth_error("unsupported_grant_type")
        if not form.get("username") or not form.get("password"):
            return _oauth_error("invalid_request")
        try:  # a worker thread: checking a password takes argon2 ~0.2 s, which the event loop must not wait for
            user = await run_in_threadpool(self._users.authenticate, form["username"], form["password"])
        except (Unauthenticated, CallscopeError):
            return _oauth_error("invalid_grant")
        subject = user.uri.removeprefix("sip:")
        token = issue_token(
            self._key,
            tenant_id=user.tenant_id,
            scopes=USER_SCOPES,
            subject=subject,
            expires_in=TOKEN_LIFETIME,
            now=time.time(),
        )
        body = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME,
            "ms_rtc_identityscope": "local",
        }
        return JSONResponse(body, headers={"Cache-Control": "no-store"})


def _oauth_error(code: str) -> Response:
    return JSONResponse({"error": code}, status_code=400, headers={"Cache-Control": "no-store"})


def _base(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


CANONICAL_PATHS = {p.lower(): p for p in (ROOT_PATH, USER_PATH, f"{ROOT_PATH}/user", "/webticket/oauthtoken")}


class CaseInsensitiveDiscovery:
    """Discovery and sign-in paths match without regard to case, as UCWA clients expect."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            canonical = CANONICAL_PATHS.get(scope["path"].lower().rstrip("/"))
            if canonical is not None:
                scope = {**scope, "path": canonical}
        await self._app(scope, receive, send)
