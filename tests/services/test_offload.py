"""Offload: reads on SQLite run on the event loop, so they must never wait for a connection.

Writes run in worker threads (anyio lends up to 40); on SQLite each one holds a pooled connection
while it waits for the database's one write lock. If the pool had fewer connections than there
can be waiting writers, a read on the event loop would wait for one of them to finish, and the
whole server with it.
"""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import pytest

from callscope.app import Services
from callscope.config import Settings
from callscope.services.call_records import RecordQuery
from tests.conftest import TENANT
from tests.support.documents import demo_records, jsonl
from tests.support.server import sqlite_write_lock

WAITING_WRITERS = 30


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, sqlite_busy_timeout_seconds=5)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PostgreSQL reads go to worker threads
def test_a_read_on_the_event_loop_finds_a_connection_while_many_writers_wait_for_the_lock(
    services: Services, database_url: str
) -> None:
    lines = jsonl(demo_records(WAITING_WRITERS)).splitlines()
    read_took: list[float] = []

    async def scenario() -> None:
        async with anyio.create_task_group() as writers:
            for line in lines:
                writers.start_soon(services.offload.write, services.ingestion.import_lines, TENANT, [line])
            await anyio.sleep(1)  # every writer has its connection and waits for the lock
            started = time.monotonic()
            await services.offload(services.call_records.count, TENANT, RecordQuery())
            read_took.append(time.monotonic() - started)

    # the writers give up after the busy timeout (503s); the read did not wait for them
    with sqlite_write_lock(database_url), pytest.raises(BaseExceptionGroup):
        anyio.run(scenario)
    assert read_took and read_took[0] < 1, "the read waited for a writer's connection"
    assert services.call_records.count(TENANT, RecordQuery()) == 0
