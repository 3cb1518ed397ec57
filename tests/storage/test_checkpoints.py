"""The checkpoint thread copies the write-ahead log into the database file while commits on the loop never do."""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text

from callscope.app import Services
from callscope.storage.checkpoints import Checkpointer
from callscope.storage.database import connect, without_waiting


def _rows_in_file_alone(database_file: Path, copy_to: Path) -> int:
    """Rows of `probe` in the database file, leaving its write-ahead log out (as a checkpoint leaves it)."""
    shutil.copyfile(database_file, copy_to)
    with sqlite3.connect(copy_to) as reader:
        try:
            return int(reader.execute("SELECT count(*) FROM probe").fetchone()[0])
        except sqlite3.OperationalError:  # the table itself is still in the log only
            return -1


def test_the_thread_copies_committed_pages_into_the_file_and_once_more_when_stopped(tmp_path: Path) -> None:
    database_file = tmp_path / "probe.sqlite3"
    engine = connect(f"sqlite:///{database_file}")
    try:
        with engine.begin() as conn:
            conn.execute(text("PRAGMA wal_autocheckpoint=0"))
            conn.execute(text("CREATE TABLE probe (n INTEGER)"))
        checkpointer = Checkpointer(engine, interval_seconds=0.01)
        checkpointer.start()
        with engine.connect() as writer:
            writer.exec_driver_sql("PRAGMA wal_autocheckpoint=0")  # this writer leaves the log to the thread
            writer.execute(text("INSERT INTO probe VALUES (1)"))
            writer.commit()
            deadline = time.monotonic() + 10
            while _rows_in_file_alone(database_file, tmp_path / "copy1") != 1:
                assert time.monotonic() < deadline, "the thread never checkpointed"
                time.sleep(0.01)
            writer.execute(text("INSERT INTO probe VALUES (2)"))
            writer.commit()
            checkpointer.stop()  # a last round on the way out
        assert not checkpointer.running and checkpointer.rounds >= 2
        assert _rows_in_file_alone(database_file, tmp_path / "copy2") == 2
    finally:
        engine.dispose()


@contextmanager
def _writing(tmp_path: Path, **options: Any) -> Iterator[tuple[Checkpointer, Connection]]:
    """A running checkpointer with these options, and a writer that leaves checkpoints to it."""
    engine = connect(f"sqlite:///{tmp_path / 'probe.sqlite3'}")
    checkpointer = Checkpointer(engine, interval_seconds=0.002, restart_pages=100, **options)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE probe (n INTEGER, filler BLOB)"))
        checkpointer.start()
        with engine.connect() as writer:
            writer.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
            yield checkpointer, writer
    finally:
        checkpointer.stop()
        engine.dispose()


def _write(writer: Connection, n: int) -> None:
    writer.execute(text("INSERT INTO probe VALUES (:n, randomblob(4000))"), {"n": n})
    writer.commit()


def test_under_endless_writes_the_writer_starts_the_log_over_after_its_commits(tmp_path: Path) -> None:
    with _writing(tmp_path, grace_rounds=10**9) as (checkpointer, writer):
        dbapi = writer.connection.dbapi_connection
        for n in range(3_000):  # commits back to back, as a busy event loop makes them
            _write(writer, n)
            if checkpointer.restart_wanted:  # as the loop's connection does after each commit
                checkpointer.restart_after_commit(dbapi)
            time.sleep(0)  # lets the thread have the interpreter, as the loop does when it polls its sockets
        assert dbapi.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000  # the writer's own, given back
    # Each commit adds two pages to the log: about 24 MiB in all, were it never started over. A passive
    # checkpoint alone never starts it over while commits come back to back.
    assert checkpointer.restarts >= 1


def test_with_no_writer_to_do_it_the_thread_starts_the_log_over_itself(tmp_path: Path) -> None:
    with _writing(tmp_path) as (checkpointer, writer):
        for n in range(200):
            _write(writer, n)
        deadline = time.monotonic() + 10
        while checkpointer.restarts == 0:
            assert time.monotonic() < deadline, "the thread never started the log over"
            time.sleep(0.01)
        time.sleep(0.05)
        restarts = checkpointer.restarts
        time.sleep(0.05)  # rounds go on: the log, not written since, is not restarted again
        assert not checkpointer.restart_wanted and checkpointer.restarts == restarts


def test_a_failing_round_is_logged_and_the_next_one_runs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'probe.sqlite3'}")
    checkpointer = Checkpointer(engine, interval_seconds=0.01)
    calls = []
    original = checkpointer.checkpoint

    def fail_once(dbapi_connection: object) -> tuple[int, int, int]:
        calls.append(1)
        if len(calls) == 1:
            raise sqlite3.OperationalError("disk I/O error")
        return original(dbapi_connection)

    checkpointer.checkpoint = fail_once  # type: ignore[method-assign]
    try:
        checkpointer.start()
        deadline = time.monotonic() + 10
        while len(calls) < 3:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert checkpointer.running
    finally:
        checkpointer.stop()
        engine.dispose()
    assert "checkpointing the SQLite write-ahead log failed" in caplog.text


def test_a_store_that_cannot_be_opened_fails_the_start_and_leaves_no_thread_counted_as_running(tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'missing' / 'probe.sqlite3'}")
    checkpointer = Checkpointer(engine)
    with pytest.raises(sqlite3.OperationalError, match="unable to open"):
        checkpointer.start()
    assert not checkpointer.running  # kept connections then keep SQLite's own checkpoints
    engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_connection_kept_for_the_loop_leaves_checkpoints_to_the_thread_while_it_runs(services: Services) -> None:
    def autocheckpoint_of_kept() -> int:
        with without_waiting(), services.database.connect() as conn:
            return int(conn.execute(text("PRAGMA wal_autocheckpoint")).scalar_one())

    usual = autocheckpoint_of_kept()
    assert usual > 0  # SQLite's own checkpoints, while no thread runs
    services.database.checkpoint_in_background()
    services.database.close()  # the kept connection is opened anew, now that the thread runs
    services.database.checkpoint_in_background()
    try:
        assert services.database.checkpointer is not None and services.database.checkpointer.running
        assert autocheckpoint_of_kept() == 0
    finally:
        services.database.close()
    assert not services.database.checkpointer.running
    for _ in range(3):  # the kept connection did not go back to the pool: no borrower inherits the setting
        with services.engine.connect() as conn:
            assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar_one() == usual
    assert autocheckpoint_of_kept() == usual  # and once the thread is stopped, the loop's connection checkpoints


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_needs_no_checkpoint_thread(services: Services) -> None:
    services.database.checkpoint_in_background()
    assert services.database.checkpointer is None
