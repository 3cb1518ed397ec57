"""Ingestion: every line is validated before anything is written; large imports let other writers in.

SQLite has one write lock for the whole database. An import that held it from its first line to
its last would stop every live call's change (503 after the busy timeout) for as long as a large
file takes to read. These tests use batches of 10 lines.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from callscope.app import Services
from callscope.config import Settings
from callscope.errors import InvalidDocument
from callscope.services import ingestion
from callscope.services.call_records import RecordQuery
from tests.conftest import TENANT
from tests.support.documents import demo_records, jsonl
from tests.support.server import sqlite_write_lock

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PostgreSQL locks rows
RECORDS = 25


def call_records() -> list[bytes]:
    """RECORDS call records as JSON lines (the demo's log rows left out, to count batches simply)."""
    return jsonl([d for d in demo_records(RECORDS) if "sessions" in d]).splitlines()


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingestion, "BATCH", 10)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, sqlite_busy_timeout_seconds=0.5)


def test_an_invalid_line_fails_the_import_without_waiting_for_the_write_lock(
    services: Services, database_url: str
) -> None:
    lines = [*call_records(), b'{"id": 5}']
    with sqlite_write_lock(database_url), pytest.raises(InvalidDocument) as failure:
        services.ingestion.import_lines(TENANT, lines, atomic=False)
    assert failure.value.line == RECORDS + 1
    assert services.call_records.count(TENANT, RecordQuery()) == 0


@pytest.mark.parametrize(("atomic", "seen_between"), [(False, [10, 20]), (True, [])])
def test_a_non_atomic_import_commits_each_batch_and_frees_the_lock_between_them(
    services: Services, database_url: str, atomic: bool, seen_between: list[int]
) -> None:
    path = database_url.removeprefix("sqlite:///")
    between: list[int] = []

    def another_writer(*_: Any) -> None:  # runs after each of the import's commits
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # fails at once if the lock were still held
            between.append(other.execute("SELECT count(*) FROM call_records").fetchone()[0])
            other.execute("ROLLBACK")
        finally:
            other.close()

    result = services.ingestion.import_lines(TENANT, call_records(), atomic=atomic, written=another_writer)
    assert result.records_written == RECORDS
    assert between == [*seen_between, RECORDS]  # what another connection saw each time the lock was free


def test_a_non_atomic_import_reports_the_lines_it_has_written_after_each_batch(services: Services) -> None:
    reports: list[tuple[int, int]] = []
    services.ingestion.import_lines(
        TENANT, call_records(), atomic=False, written=lambda done, total: reports.append((done, total))
    )
    assert reports == [(10, RECORDS), (20, RECORDS), (RECORDS, RECORDS)]


def test_an_import_run_again_after_it_stopped_completes_and_writes_each_record_once(
    services: Services, database_url: str
) -> None:
    lines = call_records()
    services.ingestion.import_lines(TENANT, lines[:12], atomic=False)  # as if it had stopped after 12
    again = services.ingestion.import_lines(TENANT, lines, atomic=False)
    assert (again.records_written, again.records_ignored) == (RECORDS - 12, 12)
    assert services.call_records.count(TENANT, RecordQuery()) == RECORDS
