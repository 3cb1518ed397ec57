"""Offload: database work on SQLite runs on the event loop, and work that meets the held write lock runs
again a moment later, the loop serving others meanwhile. On PostgreSQL it runs in a worker thread.

Work waiting for SQLite's write lock elsewhere (an import in a worker thread) holds a pooled
connection all the while. If the pool had fewer connections than there can be waiting writers, work
on the event loop would wait for one of them to finish, and the whole server with it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import anyio
import anyio.to_thread
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from callscope.app import Services
from callscope.config import Settings
from callscope.services.call_records import RecordQuery
from callscope.storage.database import lock_was_held
from tests.conftest import TENANT
from tests.support.documents import demo_records, jsonl
from tests.support.server import sqlite_write_lock

WAITING_WRITERS = 30


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, sqlite_busy_timeout_seconds=5)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PostgreSQL work goes to worker threads
def test_a_read_on_the_event_loop_finds_a_connection_while_many_writers_wait_for_the_lock(
    services: Services, database_url: str
) -> None:
    lines = jsonl(demo_records(WAITING_WRITERS)).splitlines()
    read_took: list[float] = []

    async def scenario() -> None:
        async with anyio.create_task_group() as writers:
            for line in lines:
                # as HTTP imports do: in worker threads, each holding a connection while it waits for the lock
                writers.start_soon(anyio.to_thread.run_sync, services.ingestion.import_lines, TENANT, [line])
            await anyio.sleep(1)
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
    def work() -> int:  # writes, as a call's change does
        with services.engine.begin() as conn:
            conn.execute(text("CREATE TABLE offload_probe (n INTEGER)"))
        return threading.get_ident()

    async def scenario() -> tuple[int, int]:
        return threading.get_ident(), await services.offload(work)

    loop_thread, work_thread = anyio.run(scenario)
    assert work_thread == loop_thread


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_work_that_meets_the_held_lock_before_writing_runs_again_on_the_loop_once_it_is_free(
    services: Services, database_url: str
) -> None:
    with services.engine.begin() as conn:
        conn.execute(text("CREATE TABLE offload_probe (run INTEGER)"))
    runs: list[int] = []
    served: list[float] = []

    def work() -> None:
        runs.append(threading.get_ident())
        with services.engine.begin() as conn:
            conn.execute(text("INSERT INTO offload_probe VALUES (:run)"), {"run": len(runs)})

    async def other_request() -> None:
        await anyio.sleep(0.2)
        served.append(time.monotonic())

    async def scenario() -> int:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(other_request)
            await services.offload(work)
        return threading.get_ident()

    with sqlite_write_lock(database_url) as release:
        threading.Timer(0.5, release).start()
        started = time.monotonic()
        loop_thread = anyio.run(scenario)
    assert len(runs) > 2 and set(runs) == {loop_thread}  # tried again and again, never in a thread
    assert served and served[0] - started < 0.45  # the loop went on meanwhile
    with services.engine.connect() as conn:  # the runs that met the lock wrote nothing, the last everything
        assert conn.execute(text("SELECT run FROM offload_probe")).scalars().all() == [len(runs)]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_work_that_never_gets_the_lock_fails_after_the_busy_timeout(services: Services, database_url: str) -> None:
    def work() -> None:
        with services.engine.begin() as conn:
            conn.execute(text("CREATE TABLE offload_probe (n INTEGER)"))

    started = time.monotonic()
    with sqlite_write_lock(database_url), pytest.raises(OperationalError) as failed:
        anyio.run(services.offload, work)
    assert lock_was_held(failed.value)
    assert 4.5 <= time.monotonic() - started < 10  # the settings' busy timeout is 5 s


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_on_postgresql_work_runs_in_a_worker_thread(services: Services) -> None:
    async def scenario() -> tuple[int, int]:
        return threading.get_ident(), await services.offload(threading.get_ident)

    loop_thread, work_thread = anyio.run(scenario)
    assert work_thread != loop_thread
