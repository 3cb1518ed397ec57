"""Engine helpers: a connection tuned for an import does not go back to the pool tuned; work tried without
waiting for SQLite's write lock fails at once, until it has committed a change, whether its connections
come from the pool or are the one kept for work on the event loop (`Database`)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from callscope.app import Services
from callscope.config import Settings
from callscope.storage import database as database_module
from callscope.storage.database import (
    BULK_CACHE_KIB,
    BULK_CHECKPOINT_PAGES,
    Database,
    bulk_writes,
    lock_was_held,
    repeatable,
    without_waiting,
)
from tests.support.server import sqlite_write_lock

Connections = Database | Engine  # both lend connections by `begin()` and `connect()`


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, sqlite_busy_timeout_seconds=5)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_bulk_writes_checkpoint_less_often_and_cache_more_on_that_connection_only(services: Services) -> None:
    def settings() -> tuple[int, int]:
        with services.engine.connect() as conn:
            return read(conn)

    def read(conn: Connection) -> tuple[int, int]:
        pragmas = ("PRAGMA wal_autocheckpoint", "PRAGMA cache_size")
        return int(conn.execute(text(pragmas[0])).scalar_one()), int(conn.execute(text(pragmas[1])).scalar_one())

    usual = settings()
    with services.engine.connect() as connection, bulk_writes(connection) as conn:
        assert read(conn) == (BULK_CHECKPOINT_PAGES, -BULK_CACHE_KIB)
        conn.commit()
        assert settings() == usual  # other connections, meanwhile
        with conn.begin():
            conn.execute(text("CREATE TABLE bulk_probe (n INTEGER)"))
    for _ in range(3):  # whichever pooled connection comes next
        assert settings() == usual
    with services.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM bulk_probe")).scalar_one() == 0  # the work was committed


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_bulk_writes_change_nothing_on_postgresql(services: Services) -> None:
    with services.engine.connect() as connection, bulk_writes(connection) as conn, conn.begin():
        assert conn.execute(text("SELECT 1")).scalar_one() == 1  # and no transaction was left open


@pytest.mark.parametrize("source", ["engine", "database"])
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_waiting_a_write_fails_at_once_while_another_connection_holds_the_lock(
    services: Services, database_url: str, source: str
) -> None:
    connections: Connections = getattr(services, source)
    with services.engine.begin() as conn:
        conn.execute(text("CREATE TABLE lock_probe (n INTEGER)"))
    with sqlite_write_lock(database_url):
        started = time.monotonic()
        with without_waiting() as attempt, pytest.raises(OperationalError) as failed, connections.begin() as conn:
            conn.execute(text("INSERT INTO lock_probe VALUES (1)"))
        assert time.monotonic() - started < 0.5  # the settings' busy timeout is 5 s
        assert lock_was_held(failed.value) and not attempt.wrote
        started = time.monotonic()
        # outside, the same write waits the whole busy timeout
        with pytest.raises(OperationalError), services.engine.begin() as conn:
            conn.execute(text("INSERT INTO lock_probe VALUES (1)"))
        assert time.monotonic() - started >= 4.5


@pytest.mark.parametrize("source", ["engine", "database"])
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_waiting_notes_a_committed_change_and_waits_after_it(
    services: Services, database_url: str, source: str
) -> None:
    connections: Connections = getattr(services, source)
    with services.engine.begin() as conn:
        conn.execute(text("CREATE TABLE lock_probe (n INTEGER)"))
    with without_waiting() as attempt:
        with connections.begin() as conn:
            conn.execute(text("SELECT count(*) FROM lock_probe"))
        assert not attempt.wrote  # a transaction that only read
        with connections.begin() as conn:
            conn.execute(text("INSERT INTO lock_probe VALUES (1)"))
        assert attempt.wrote
        with sqlite_write_lock(database_url) as release:
            threading.Timer(0.5, release).start()
            with connections.begin() as conn:  # waits for the lock, as it must not fail half done
                conn.execute(text("INSERT INTO lock_probe VALUES (2)"))
    with services.engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM lock_probe ORDER BY n")).scalars().all() == [1, 2]


@pytest.mark.parametrize("source", ["engine", "database"])
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_repeatable_change_does_not_count_as_the_attempts_change(services: Services, source: str) -> None:
    connections: Connections = getattr(services, source)
    with services.engine.begin() as conn:
        conn.execute(text("CREATE TABLE lock_probe (n INTEGER)"))
    with without_waiting() as attempt:
        with repeatable(), connections.begin() as conn:
            conn.execute(text("INSERT INTO lock_probe VALUES (1)"))
        assert not attempt.wrote
        with connections.begin() as conn:
            conn.execute(text("INSERT INTO lock_probe VALUES (2)"))
        assert attempt.wrote
        with repeatable(), connections.begin() as conn:
            conn.execute(text("INSERT INTO lock_probe VALUES (3)"))
        assert attempt.wrote  # what came before still counts


def _probe(services: Services) -> None:
    with services.engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe (n INTEGER)"))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_work_on_the_loop_keeps_one_connection_and_work_nested_in_it_borrows_another(services: Services) -> None:
    _probe(services)
    database = services.database
    with without_waiting():
        with database.begin() as first:
            first.execute(text("INSERT INTO probe VALUES (1)"))
            with database.connect() as nested:
                assert nested is not first  # from the pool: the kept one is in use
                assert nested.execute(text("SELECT count(*) FROM probe")).scalar_one() == 0  # not committed yet
        with database.connect() as second:
            assert second is first and not second.in_transaction()
            assert second.execute(text("SELECT count(*) FROM probe")).scalar_one() == 1
        assert not first.in_transaction()  # a read's transaction ends with its block
    with database.connect() as outside:  # not an attempt: the pool's, as on PostgreSQL
        assert outside is not first


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_error_rolls_the_kept_connection_back_and_it_serves_again(services: Services) -> None:
    _probe(services)
    used = []

    def insert_then_fail() -> None:
        with services.database.begin() as conn:
            used.append(conn)
            conn.execute(text("INSERT INTO probe VALUES (1)"))
            raise LookupError("after the insert")

    with without_waiting(), pytest.raises(LookupError):
        insert_then_fail()
    with without_waiting(), services.database.begin() as again:
        assert again is used[0]
        again.execute(text("INSERT INTO probe VALUES (2)"))
    with services.engine.connect() as check:
        assert check.execute(text("SELECT n FROM probe")).scalars().all() == [2]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_closing_closes_the_kept_connections_and_the_next_work_opens_one(services: Services) -> None:
    with without_waiting(), services.database.connect() as conn:
        pass
    services.database.close()
    assert conn.closed
    with without_waiting(), services.database.connect() as reopened:
        assert reopened is not conn and reopened.execute(text("SELECT 1")).scalar_one() == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_on_postgresql_every_block_borrows_from_the_pool(services: Services) -> None:
    with without_waiting():
        with services.database.connect() as first:
            pass
        with services.database.connect() as second:
            assert second is not first and first.closed


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_block_that_fails_to_start_leaves_the_kept_connection_free(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    with without_waiting(), services.database.connect() as kept:
        pass
    lend = database_module._lend_sqlite
    lent = []

    def fail_the_first_time(*args: Any) -> None:
        lent.append(args)
        if len(lent) == 1:
            raise OSError("the busy timeout could not be set")
        lend(*args)

    monkeypatch.setattr(database_module, "_lend_sqlite", fail_the_first_time)
    with without_waiting(), pytest.raises(OSError):
        services.database.begin().__enter__()
    with without_waiting(), services.database.begin() as again:
        assert again is kept  # not marked in use by the block that never started
