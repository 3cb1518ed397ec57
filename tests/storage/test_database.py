"""Engine helpers: a connection tuned for an import does not go back to the pool tuned; work tried without
waiting for SQLite's write lock fails at once, until it has committed a change."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from callscope.app import Services
from callscope.config import Settings
from callscope.storage.database import (
    BULK_CHECKPOINT_PAGES,
    bulk_writes,
    lock_was_held,
    repeatable,
    without_waiting,
)
from tests.support.server import sqlite_write_lock


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, sqlite_busy_timeout_seconds=5)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_bulk_writes_checkpoint_less_often_on_that_connection_only(services: Services) -> None:
    def autocheckpoint() -> int:
        with services.engine.connect() as conn:
            return int(conn.execute(text("PRAGMA wal_autocheckpoint")).scalar_one())

    usual = autocheckpoint()
    with services.engine.connect() as connection, bulk_writes(connection) as conn:
        assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar_one() == BULK_CHECKPOINT_PAGES
        conn.commit()
        assert autocheckpoint() == usual  # other connections, meanwhile
        with conn.begin():
            conn.execute(text("CREATE TABLE bulk_probe (n INTEGER)"))
    for _ in range(3):  # whichever pooled connection comes next
        assert autocheckpoint() == usual
    with services.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM bulk_probe")).scalar_one() == 0  # the work was committed


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_bulk_writes_change_nothing_on_postgresql(services: Services) -> None:
    with services.engine.connect() as connection, bulk_writes(connection) as conn, conn.begin():
        assert conn.execute(text("SELECT 1")).scalar_one() == 1  # and no transaction was left open


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_waiting_a_write_fails_at_once_while_another_connection_holds_the_lock(
    services: Services, database_url: str
) -> None:
    with services.engine.begin() as conn:
        conn.execute(text("CREATE TABLE lock_probe (n INTEGER)"))
    with sqlite_write_lock(database_url):
        started = time.monotonic()
        with without_waiting() as attempt, pytest.raises(OperationalError) as failed, services.engine.begin() as conn:
            conn.execute(text("INSERT INTO lock_probe VALUES (1)"))
        assert time.monotonic() - started < 0.5  # the settings' busy timeout is 5 s
        assert lock_was_held(failed.value) and not attempt.wrote
        started = time.monotonic()
        # outside, the same write waits the whole busy timeout
        with pytest.raises(OperationalError), services.engine.begin() as conn:
            conn.execute(text("INSERT INTO lock_probe VALUES (1)"))
        assert time.monotonic() - started >= 4.5


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_waiting_notes_a_committed_change_and_waits_after_it(services: Services, database_url: str) -> None:
    with services.engine.begin() as conn:
        conn.execute(text("CREATE TABLE lock_probe (n INTEGER)"))
    with without_waiting() as attempt:
        with services.engine.begin() as conn:
            conn.execute(text("SELECT count(*) FROM lock_probe"))
        assert not attempt.wrote  # a transaction that only read
        with services.engine.begin() as conn:
            conn.execute(text("INSERT INTO lock_probe VALUES (1)"))
        assert attempt.wrote
        with sqlite_write_lock(database_url) as release:
            threading.Timer(0.5, release).start()
            with services.engine.begin() as conn:  # waits for the lock, as it must not fail half done
                conn.execute(text("INSERT INTO lock_probe VALUES (2)"))
    with services.engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM lock_probe ORDER BY n")).scalars().all() == [1, 2]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_repeatable_change_does_not_count_as_the_attempts_change(services: Services) -> None:
    with services.engine.begin() as conn:
        conn.execute(text("CREATE TABLE lock_probe (n INTEGER)"))
    with without_waiting() as attempt:
        with repeatable(), services.engine.begin() as conn:
            conn.execute(text("INSERT INTO lock_probe VALUES (1)"))
        assert not attempt.wrote
        with services.engine.begin() as conn:
            conn.execute(text("INSERT INTO lock_probe VALUES (2)"))
        assert attempt.wrote
        with repeatable(), services.engine.begin() as conn:
            conn.execute(text("INSERT INTO lock_probe VALUES (3)"))
        assert attempt.wrote  # what came before still counts
