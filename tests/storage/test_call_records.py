"""The record store keeps documents compressed and gives back exactly the bytes it was given."""

from __future__ import annotations

import zlib

import msgspec

from callscope.app import Services
from callscope.domain.call_records import StoredRecord
from callscope.storage import call_records as store
from callscope.storage.tables import call_records

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
