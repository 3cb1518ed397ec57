"""Group commit (storage/commit_groups.py): on SQLite, the work one turn of the event loop does on the kept
connection commits once; each piece of work is undone on its own when it fails, every caller returns only
once its work is stored, and a commit that fails undoes the whole group and reaches every caller."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from callscope.app import Services, create_services
from callscope.config import Settings
from callscope.storage.checkpoints import Checkpointer
from callscope.storage.database import without_waiting

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PostgreSQL commits each block


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, sqlite_busy_timeout_seconds=5)


@pytest.fixture
def probe(services: Services) -> Callable[[], list[int]]:
    """A table, and what another connection (committed rows only) finds in it."""
    with services.engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe (n INTEGER)"))
    path = services.engine.url.database

    def committed() -> list[int]:
        with sqlite3.connect(str(path)) as other:
            return [n for (n,) in other.execute("SELECT n FROM probe ORDER BY n")]

    return committed


def _commits(services: Services) -> list[int]:
    seen: list[int] = []
    event.listen(services.engine, "commit", lambda _conn: seen.append(1))
    return seen


def _insert(services: Services, n: int, fail: bool = False) -> None:
    with services.database.begin() as conn:
        conn.execute(text("INSERT INTO probe VALUES (:n)"), {"n": n})
        if fail:
            raise LookupError(f"after inserting {n}")


def test_work_of_one_turn_commits_once_and_each_caller_returns_once_it_is_stored(
    services: Services, probe: Callable[[], list[int]]
) -> None:
    commits = _commits(services)
    stored_when_done: list[list[int]] = []
    stored_inside: list[list[int]] = []

    def work(n: int) -> None:
        _insert(services, n)
        stored_inside.append(probe())  # the block has ended, the group has not committed yet

    async def caller(n: int) -> None:
        await services.offload(work, n)
        stored_when_done.append(probe())

    async def scenario() -> None:
        await asyncio.gather(*(caller(n) for n in (1, 2, 3)))

    asyncio.run(scenario())
    assert stored_inside == [[], [], []]
    assert stored_when_done == [[1, 2, 3]] * 3
    assert len(commits) == 1


def test_work_that_fails_undoes_only_its_own_changes(services: Services, probe: Callable[[], list[int]]) -> None:
    stored_when_failed: list[list[int]] = []

    async def failing() -> None:
        try:
            await services.offload(_insert, services, 2, fail=True)
        finally:  # its error may rest on what the others wrote: it too comes once they are stored
            stored_when_failed.append(probe())

    async def scenario() -> list[Any]:
        return await asyncio.gather(
            services.offload(_insert, services, 1),
            failing(),
            services.offload(_insert, services, 3),
            return_exceptions=True,
        )

    results = asyncio.run(scenario())
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], LookupError)
    assert probe() == [1, 3]
    assert stored_when_failed == [[1, 3]]


def test_a_commit_that_fails_undoes_the_whole_group_and_every_caller_gets_the_error(services: Services) -> None:
    with services.engine.begin() as conn:
        conn.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        conn.execute(
            text("CREATE TABLE child (parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)")
        )
    after: list[str] = []

    def enforce_keys() -> None:  # outside any transaction, as SQLite requires: a read block opens no group
        with services.database.connect() as conn:
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")

    def add_parent() -> None:
        with services.database.begin() as conn:
            conn.execute(text("INSERT INTO parent VALUES (1)"))
        services.database.after_commit(lambda: after.append("parent"))

    def add_orphan() -> None:  # its key is checked only when the transaction commits
        with services.database.begin() as conn:
            conn.execute(text("INSERT INTO child VALUES (7)"))

    async def scenario() -> list[Any]:
        await services.offload(enforce_keys)
        return await asyncio.gather(services.offload(add_parent), services.offload(add_orphan), return_exceptions=True)

    results = asyncio.run(scenario())
    assert [type(r) for r in results] == [IntegrityError, IntegrityError]
    assert after == []
    with services.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM parent")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM child")).scalar_one() == 0

    async def again() -> None:  # the kept connection serves on
        await services.offload(add_parent)

    asyncio.run(again())
    assert after == ["parent"]


def test_actions_after_commit_run_once_the_work_is_stored(services: Services, probe: Callable[[], list[int]]) -> None:
    seen_by_action: list[list[int]] = []

    def work() -> None:
        _insert(services, 1)
        services.database.after_commit(lambda: seen_by_action.append(probe()))
        assert seen_by_action == []

    async def scenario() -> None:
        await services.offload(work)

    asyncio.run(scenario())
    assert seen_by_action == [[1]]
    services.database.after_commit(lambda: seen_by_action.append([]))  # no group open: at once
    assert seen_by_action == [[1], []]


def test_a_read_of_work_not_yet_committed_returns_after_the_commit(
    services: Services, probe: Callable[[], list[int]]
) -> None:
    order: list[str] = []

    def write() -> None:
        _insert(services, 1)
        services.database.after_commit(lambda: order.append("committed"))

    def read() -> int:
        with services.database.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM probe")).scalar_one())

    async def reader() -> None:
        found = await services.offload(read)
        order.append(f"read returned, found {found}")

    async def scenario() -> None:
        await asyncio.gather(services.offload(write), reader())

    asyncio.run(scenario())
    assert order == ["committed", "read returned, found 1"]


def test_a_pooled_connection_on_the_loop_first_commits_the_group(
    services: Services, probe: Callable[[], list[int]]
) -> None:
    async def scenario() -> float:
        with without_waiting(), services.database.begin() as kept:
            kept.execute(text("INSERT INTO probe VALUES (1)"))  # the group holds SQLite's write lock
        started = time.monotonic()
        with services.database.begin() as pooled:  # outside an attempt: from the pool
            pooled.execute(text("INSERT INTO probe VALUES (2)"))
        return time.monotonic() - started

    took = asyncio.run(scenario())
    assert took < 1, "the pooled connection waited for the group's lock"
    assert probe() == [1, 2]


def test_a_caller_cancelled_while_waiting_leaves_the_others_waiting(
    services: Services, probe: Callable[[], list[int]]
) -> None:
    async def scenario() -> list[Any]:
        first = asyncio.ensure_future(services.offload(_insert, services, 1))
        second = asyncio.ensure_future(services.offload(_insert, services, 2))
        await asyncio.sleep(0)  # both have run their work and wait for the commit
        first.cancel()
        return await asyncio.gather(first, second, return_exceptions=True)

    results = asyncio.run(scenario())
    assert isinstance(results[0], asyncio.CancelledError) and results[1] is None
    assert probe() == [1, 2]  # the work was done; only its caller stopped waiting


def test_groups_back_to_back_still_let_the_log_start_over(services: Services) -> None:
    with services.engine.begin() as conn:
        conn.execute(text("CREATE TABLE filler (n INTEGER, bytes BLOB)"))
    database = services.database
    # the thread never restarts the log itself here: every restart is the loop's, right after a group's commit
    database.checkpointer = Checkpointer(services.engine, interval_seconds=0.002, restart_pages=100, grace_rounds=10**9)

    def insert(n: int) -> None:
        with database.begin() as conn:
            conn.execute(text("INSERT INTO filler VALUES (:n, randomblob(4000))"), {"n": n})

    async def writer(first: int) -> None:  # as a busy loop's requests do: a group is open at almost every moment
        for n in range(first, first + 400):
            await services.offload(insert, n)

    async def scenario() -> None:
        database.checkpoint_in_background()
        await asyncio.gather(*(writer(1000 * w) for w in range(8)))

    try:
        asyncio.run(scenario())
    finally:
        database.close()
    assert database.checkpointer.restarts >= 1


def test_with_other_processes_on_the_file_each_block_commits_on_its_own(tmp_path: Path, database_url: str) -> None:
    services = create_services(Settings(data_dir=tmp_path / "shared", database_url=database_url, shared_store=True))
    try:
        with services.engine.begin() as conn:
            conn.execute(text("CREATE TABLE probe (n INTEGER)"))
        commits = _commits(services)

        async def scenario() -> None:
            await asyncio.gather(*(services.offload(_insert, services, n) for n in (1, 2, 3)))

        asyncio.run(scenario())
        assert len(commits) == 3  # their writers back off when they meet the lock: it is not held from turn to turn
    finally:
        services.database.close()
        services.engine.dispose()
