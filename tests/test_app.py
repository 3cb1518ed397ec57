"""The wired application: on PostgreSQL, no more threads do database work than the pool keeps connections."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from callscope.app import Services
from callscope.storage.database import POSTGRES_POOL_SIZE
from tests.conftest import TokenFactory

BURST = 80


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite reads run on the event loop
def test_bursts_of_requests_on_postgresql_reuse_the_pooled_connections(
    services: Services, base_url: str, make_token: TokenFactory
) -> None:
    opened: list[Any] = []
    event.listen(services.engine, "connect", lambda *_: opened.append(1))
    headers = {"Authorization": f"Bearer {make_token()}"}

    async def bursts() -> None:
        limits = httpx.Limits(max_connections=BURST)
        for _ in range(5):  # a client per burst: a slow burst outlasts the server's keep-alive, and reuse races
            async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=60) as http:
                counts = await asyncio.gather(
                    *(http.get("/v1.0/communications/callRecords/$count") for _ in range(BURST))
                )
            assert {answer.status_code for answer in counts} == {200}

    asyncio.run(bursts())
    # More threads than connections made the pool open extra connections and close them on return,
    # a new PostgreSQL backend each time.
    assert 0 < len(opened) <= POSTGRES_POOL_SIZE
