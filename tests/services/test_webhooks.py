"""Outgoing webhook requests: what counts as a validation echo and as a delivery, against a real receiver."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from callscope.services.webhooks import ANSWER_LIMIT, Webhooks
from tests.support.server import free_port, serving

ports: list[int] = []  # the client port of every request the receiver got


async def _echo(request: Request) -> Response:
    ports.append(request.client.port if request.client else 0)
    token = request.query_params.get("validationToken", "")
    media_type = {"json": "application/json"}.get(request.path_params["how"], "text/plain")
    if request.path_params["how"] == "long":
        token += "x" * (2 * ANSWER_LIMIT)
    return PlainTextResponse(token, media_type=media_type)


async def _status(request: Request) -> Response:
    ports.append(request.client.port if request.client else 0)
    await request.body()
    code = int(request.path_params["code"])
    if code == 307:
        return RedirectResponse("/echo/plain", status_code=307)
    return Response(b"a" * (2 * ANSWER_LIMIT) if code == 299 else b"", status_code=code)


async def _slow(_request: Request) -> Response:
    await asyncio.sleep(1.5)
    return Response(status_code=202)


@pytest.fixture(scope="module")
def hooks() -> Iterator[str]:
    app = Starlette(
        routes=[
            Route("/echo/{how}", _echo, methods=["POST"]),
            Route("/status/{code}", _status, methods=["POST"]),
            Route("/slow", _slow, methods=["POST"]),
        ]
    )
    with serving(app) as url:
        yield url


def _run(calls: Any, **timeouts: float) -> Any:
    async def run() -> Any:
        webhooks = Webhooks(**timeouts)
        try:
            return await calls(webhooks)
        finally:
            await webhooks.close()

    return asyncio.run(run())


def test_only_the_token_echoed_as_text_plain_validates(hooks: str) -> None:
    async def calls(webhooks: Webhooks) -> list[bool]:
        return [await webhooks.validate(f"{hooks}/echo/{how}") for how in ("plain", "json", "long")]

    assert _run(calls) == [True, False, False]


def test_redirects_are_not_followed(hooks: str) -> None:
    async def calls(webhooks: Webhooks) -> tuple[bool, bool]:
        return await webhooks.validate(f"{hooks}/status/307"), await webhooks.deliver(f"{hooks}/status/307", b"{}")

    assert _run(calls) == (False, False)


@pytest.mark.parametrize(("code", "delivered"), [(200, True), (202, True), (299, True), (301, False), (503, False)])
def test_a_delivery_counts_on_a_2xx_only(hooks: str, code: int, delivered: bool) -> None:
    async def calls(webhooks: Webhooks) -> bool:
        return await webhooks.deliver(f"{hooks}/status/{code}", b'{"value": []}')

    assert _run(calls) is delivered


def test_unreachable_malformed_and_late_endpoints_fail_without_raising(hooks: str) -> None:
    nobody = f"http://127.0.0.1:{free_port()}/hook"

    async def calls(webhooks: Webhooks) -> list[bool]:
        return [
            await webhooks.validate(nobody),
            await webhooks.deliver(nobody, b"{}"),
            await webhooks.deliver("not a url", b"{}"),
            await webhooks.deliver("ftp://127.0.0.1/hook", b"{}"),
            await webhooks.deliver(f"{hooks}/slow", b"{}"),
        ]

    assert _run(calls, delivery_seconds=0.3) == [False] * 5


def test_deliveries_to_one_subscriber_reuse_a_connection(hooks: str) -> None:
    ports.clear()

    async def calls(webhooks: Webhooks) -> list[bool]:
        return [await webhooks.deliver(f"{hooks}/status/{code}", b"{}") for code in (202, 200, 202)]

    assert _run(calls) == [True, True, True]
    assert len(set(ports)) == 1, ports
