"""A webhook receiver for change notifications, served for real on loopback by the tests."""

from __future__ import annotations

import threading
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


class Receiver:
    """Answers Graph's validation handshake (or not, as told) and keeps what it is sent."""

    def __init__(self) -> None:
        self.handshake = "echo"  # echo | wrong | slow
        self.failing = False  # answer notifications with 503
        self.received: list[tuple[float, str, dict[str, Any]]] = []  # (monotonic time, path, body)
        self._changed = threading.Condition()
        self.app = Starlette(
            routes=[Route("/hooks/{name}", self._hook, methods=["POST"])],
        )

    async def _hook(self, request: Request) -> Response:
        token = request.query_params.get("validationToken")
        if token is not None:
            if self.handshake == "slow":
                import asyncio

                await asyncio.sleep(12)
            return PlainTextResponse(token if self.handshake == "echo" else "something else")
        if self.failing:
            return Response(status_code=503)
        body = await request.json()
        with self._changed:
            self.received.append((time.monotonic(), request.path_params["name"], body))
            self._changed.notify_all()
        return Response(status_code=202)

    def wait_for(self, count: int, name: str = "notify", timeout: float = 10) -> list[dict[str, Any]]:
        """The first `count` notification items sent to /hooks/{name}, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                items = self.items(name)
                if len(items) >= count:
                    return items
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(items)} of {count} notifications arrived at /hooks/{name}: {items}")
                self._changed.wait(left)

    def items(self, name: str = "notify") -> list[dict[str, Any]]:
        """Every notification item received at /hooks/{name} so far."""
        return [item for _, path, body in self.received if path == name for item in body["value"]]

    def arrival(self, name: str = "notify") -> float:
        """When the first notification arrived (monotonic seconds)."""
        return next(at for at, path, _ in self.received if path == name)
