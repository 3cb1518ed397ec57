"""Reading call records: one record by id, lists by start time and participant, counts."""

from __future__ import annotations

from sqlalchemy import Engine

from callscope.errors import NotFound
from callscope.storage import call_records as store
from callscope.storage.call_records import RecordQuery

__all__ = ["CallRecords", "RecordQuery"]


class CallRecords:
    """Read use cases over the call-records store."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._versions = store.VersionReader(engine)

    def get(self, tenant_id: str, record_id: str) -> bytes:
        """The record's JSON document; NotFound for unknown ids and other tenants' alike."""
        with self._engine.connect() as conn:
            document = store.find_document(conn, tenant_id, record_id)
        if document is None:
            raise NotFound(f"call record {record_id!r} was not found")
        return document

    def find_version(self, tenant_id: str, record_id: str) -> int | None:
        """The record's stored version, or None."""
        return self._versions.find(tenant_id, record_id)

    def get_version(self, tenant_id: str, record_id: str) -> int:
        """The record's stored version; NotFound like `get`."""
        version = self.find_version(tenant_id, record_id)
        if version is None:
            raise NotFound(f"call record {record_id!r} was not found")
        return version

    def list_page(self, tenant_id: str, query: RecordQuery, limit: int) -> list[tuple[int, str, bytes]]:
        """Up to `limit` records in start-time order as (start_us, id, JSON document)."""
        with self._engine.connect() as conn:
            return store.list_documents(conn, tenant_id, query, limit)

    def count(self, tenant_id: str, query: RecordQuery) -> int:
        """How many records match."""
        with self._engine.connect() as conn:
            return store.count(conn, tenant_id, query)
