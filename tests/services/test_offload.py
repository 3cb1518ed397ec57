"""Offload: database work on SQLite runs on the event loop unless it has to wait for the write lock; then
it runs again in a worker thread. On PostgreSQL it runs in a worker thread.

Work waiting for SQLite's write lock in a worker thread (anyio lends up to 40) holds a pooled
connection all the while. If the pool had fewer connections than there can be waiting writers, work
on the event loop would wait for one of them to finish, and the whole server with it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import anyio
import pytest
from sqlalchemy import text

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
                writers.start_soon(services.offload, services.ingestion.import_lines, TENANT, [line])
            await anyio.sleep(1)  # every writer has its connection and waits for the lock
            started = time.monotonic()
            await services.offload(services.call_records.count, TENANT, RecordQuery())
            read_took.append(time.monotonic() - started)

    # the writers give up after the busy timeout (503s); the read did not wait for them
    with sqlite_write_lock(database_url), pytest.raises(BaseExceptionGroup):
        anyio.run(scenario)
    assert read_took and read_took[0] < 1, "the read waited for a writer's connection"
    assert services.call_records.count(TENANT, RecordQuery()) == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_on_sqlite_work_runs_on_the_event_loop_while_the_lock_is_free(services: Services) -> None:
    async def scenario() -> tuple[int, int]:
        return threading.get_ident(), await services.offload(threading.get_ident)

    loop_thread, work_thread = anyio.run(scenario)
    assert work_thread == loop_thread


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_work_that_meets_the_held_lock_before_writing_runs_again_in_a_worker_thread(
    services: Services, database_url: str
) -> None:
    with services.engine.begin() as conn:
        conn.execute(text("CREATE TABLE offload_probe (thread INTEGER)"))
    runs: list[int] = []

    def work() -> None:
        runs.append(threading.get_ident())
        with services.engine.begin() as conn:
            conn.execute(text("INSERT INTO offload_probe VALUES (:t)"), {"t": threading.get_ident()})

    async def scenario() -> int:
        await services.offload(work)
        return threading.get_ident()

    with sqlite_write_lock(database_url) as release:
        threading.Timer(0.5, release).start()
        loop_thread = anyio.run(scenario)
    assert runs[0] == loop_thread and len(runs) == 2 and runs[1] != loop_thread
    with services.engine.connect() as conn:  # the first run wrote nothing, the second everything
        assert conn.execute(text("SELECT thread FROM offload_probe")).scalars().all() == [runs[1]]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_on_postgresql_work_runs_in_a_worker_thread(services: Services) -> None:
    async def scenario() -> tuple[int, int]:
        return threading.get_ident(), await services.offload(threading.get_ident)

    loop_thread, work_thread = anyio.run(scenario)
    assert work_thread != loop_thread
