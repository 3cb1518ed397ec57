"""The record store keeps documents compressed and gives back exactly the bytes it was given; a participant
filter pages through that participant's links."""

from __future__ import annotations

import random
import zlib
from dataclasses import replace
from typing import Any

import msgspec
import pytest
from sqlalchemy import event, func, select

from callscope.app import Services
from callscope.domain.call_records import StoredRecord
from callscope.storage import call_records as store
from callscope.storage.tables import call_record_participants, call_records

DOCUMENT = msgspec.json.encode({"id": "r1", "version": 1, "note": "ünïcode " * 200})


def _record(record_id: str, document: bytes) -> StoredRecord:
    return StoredRecord(record_id, 1, 10, 20, frozenset({"p1"}), document)


def test_documents_are_stored_packed_and_read_back_unchanged(services: Services) -> None:
    with services.engine.begin() as conn:
        store.write(conn, "t1", [_record("r1", store.pack(DOCUMENT))], [])
    with services.engine.connect() as conn:
        stored = conn.execute(call_records.select()).one().document
        assert len(stored) < len(DOCUMENT) / 5
        assert store.find_document(conn, "t1", "r1") == DOCUMENT
        assert store.find_document(conn, "t2", "r1") is None


def test_documents_written_with_zlib_before_zstd_are_still_read(services: Services) -> None:
    with services.engine.begin() as conn:
        store.write(conn, "t1", [_record("old", zlib.compress(DOCUMENT, 1))], [])
    with services.engine.connect() as conn:
        assert store.find_document(conn, "t1", "old") == DOCUMENT


def _linked(record_id: str, start_us: int, participants: set[str], version: int = 1) -> StoredRecord:
    document = msgspec.json.encode({"id": record_id, "participants_v2": [{"id": p} for p in sorted(participants)]})
    return StoredRecord(record_id, version, start_us, start_us + 1, frozenset(participants), store.pack(document))


def _page_through(services: Services, query: store.RecordQuery, size: int) -> list[tuple[int, str]]:
    seen: list[tuple[int, str]] = []
    while True:
        with services.engine.connect() as conn:
            page = store.list_documents(conn, "t1", replace(query, after=seen[-1] if seen else None), size)
        seen += [(start, record_id) for start, record_id, _ in page]
        if len(page) < size:
            return seen


def test_a_participant_filter_pages_in_start_order_within_the_bounds(services: Services) -> None:
    chooser = random.Random(4)
    records = [
        _linked(f"r{n:02}", chooser.randrange(20), set(chooser.sample("abcd", chooser.randrange(1, 3))))
        for n in range(60)
    ]
    with services.engine.begin() as conn:
        store.write(conn, "t1", records, [])
        store.write(conn, "t2", [_linked("other", 5, {"a"})], [])
    for participants, lower, upper in (
        (("a",), None, None),
        (("a", "b"), (3, True), (15, False)),
        (("z",), None, None),
    ):
        query = store.RecordQuery(lower, upper, participants)
        expected = sorted(
            (r.start_us, r.id)
            for r in records
            if r.participant_ids & set(participants)
            and (lower is None or r.start_us >= lower[0])
            and (upper is None or r.start_us < upper[0])
        )
        assert _page_through(services, query, 7) == expected
        with services.engine.connect() as conn:
            assert store.count(conn, "t1", query) == len(expected)


def test_a_replaced_record_is_found_by_its_new_participants_only(services: Services) -> None:
    with services.engine.begin() as conn:
        store.write(conn, "t1", [_linked("r1", 10, {"a", "b"}), _linked("r2", 12, {"a"})], [])
        store.write(conn, "t1", [_linked("r1", 20, {"c"}, version=2)], ["r1"])
    found = {p: _page_through(services, store.RecordQuery(participant_ids=(p,)), 5) for p in "abc"}
    assert found == {"a": [(12, "r2")], "b": [], "c": [(20, "r1")]}
    with services.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(call_record_participants)).scalar_one() == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_participant_page_reads_that_participant_s_links_not_the_tenant_s_records(services: Services) -> None:
    statements: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        statements.append((statement, parameters))

    query = store.RecordQuery(participant_ids=("a",), after=(3, "r1"))
    event.listen(services.engine, "before_cursor_execute", seen)
    try:
        with services.engine.connect() as conn:
            store.list_documents(conn, "t1", query, 10)
    finally:
        event.remove(services.engine, "before_cursor_execute", seen)
    ((statement, parameters),) = statements
    with services.engine.connect() as conn:
        plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
    links = [step for step in plan if "call_record_participants" in step]
    records = [step for step in plan if "call_records " in step]
    assert links == [
        "SEARCH call_record_participants USING PRIMARY KEY"
        " (tenant_id=? AND participant_id=? AND (start_us,record_id)>(?,?))"
    ]
    assert all(step.endswith("(tenant_id=? AND id=?)") for step in records), plan  # one record by its key
