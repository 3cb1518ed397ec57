"""The wired application: on PostgreSQL, no more threads do database work than the pool keeps connections; while
it serves, acknowledged events are swept away in the background, and SQLite's log is checkpointed by a thread."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from callscope import app as app_module
from callscope.app import Services
from callscope.domain.applications import Application
from callscope.domain.events import Channel, Event, EventType, Priority
from callscope.storage import applications
from callscope.storage import events as event_store
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


@pytest.fixture
def sweep_often(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "FORGET_ACKNOWLEDGED_EVERY_SECONDS", 0.02)


def test_the_server_sweeps_away_acknowledged_events_and_keeps_the_others(
    sweep_often: None, services: Services, base_url: str
) -> None:
    presence = Event("me", "", EventType.UPDATED, "presence", "", Priority.HIGH)
    with services.engine.begin() as conn:
        for application_id in ("a", "b"):
            applications.insert_one(
                conn, Application("t", application_id, "sip:u@x", "ua", application_id, "en", None, 0, 0)
            )
            event_store.append(conn, "t", application_id, [presence, presence])
        newest_of_a = event_store.list_between(conn, "t", "a", 0, None)[-1].id
        assert applications.advance_channel(conn, "t", "a", 0, Channel(1, newest_of_a, newest_of_a))
    deadline = time.monotonic() + 10
    while True:
        with services.engine.connect() as conn:
            left = {a: len(event_store.list_between(conn, "t", a, 0, None)) for a in ("a", "b")}
        if left["a"] == 0:
            break
        assert time.monotonic() < deadline, "acknowledged events were never swept"
        time.sleep(0.02)
    assert left == {"a": 0, "b": 2}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_while_the_server_runs_a_thread_checkpoints_sqlite(services: Services, base_url: str) -> None:
    checkpointer = services.database.checkpointer
    assert checkpointer is not None and checkpointer.running
    rounds = checkpointer.rounds
    deadline = time.monotonic() + 10
    while checkpointer.rounds == rounds:
        assert time.monotonic() < deadline
        time.sleep(0.01)
