"""The load generators' HTTP client: aiohttp, with the few calls the benches make.

The benches first used httpx, as the tests do. Against bench/floor.py's no-op server it took
2.4 ms of its own CPU per request at 4 concurrent requests and 5.8 ms at 64, where aiohttp takes
0.20 and 0.34 ms: with httpx the load generator, on the same two cores, was the bottleneck it was
meant to measure past (decision 0009).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
import msgspec
from yarl import URL


@dataclass(frozen=True)
class Reply:
    """A response read whole."""

    status: int
    body: bytes

    def json(self) -> Any:
        return msgspec.json.decode(self.body)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


class Client:
    """One connection pool to one server; counts the requests it sends."""

    def __init__(self, base: str, *, timeout: float = 60, connections: int = 0) -> None:
        self.base = URL(base)
        self.timeout = timeout
        self.connections = connections  # 0: no limit
        self.sent = 0
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Client:
        connector = aiohttp.TCPConnector(limit=self.connections, keepalive_timeout=30)
        self._session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        href: str,
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        json: Any = None,
        content: str | bytes | None = None,
        timeout: float | None = None,
    ) -> Reply:
        """Send one request to `href` (a path, or a path with its query) and read the whole answer."""
        if self._session is None:
            raise RuntimeError("use the client in `async with`")
        url = self.base.join(URL(href))
        if params:
            url = url.update_query(params)
        self.sent += 1
        extra = {} if timeout is None else {"timeout": aiohttp.ClientTimeout(total=timeout)}
        async with self._session.request(method, url, headers=headers, json=json, data=content, **extra) as response:
            return Reply(response.status, await response.read())

    async def get(self, href: str, **options: Any) -> Reply:
        return await self.request("GET", href, **options)

    async def post(self, href: str, **options: Any) -> Reply:
        return await self.request("POST", href, **options)

    async def delete(self, href: str, **options: Any) -> Reply:
        return await self.request("DELETE", href, **options)
