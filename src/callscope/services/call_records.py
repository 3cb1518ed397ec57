"""Reading call records: one record by id, lists by start time and participant, counts."""

from __future__ import annotations

import asyncio
import itertools

from callscope.errors import NotFound
from callscope.storage import call_records as store
from callscope.storage.call_records import RecordQuery
from callscope.storage.database import Database

__all__ = ["CallRecords", "RecordChanges", "RecordQuery"]

# How long another process's record write may go unnoticed here, at most. Each look costs about a
# quarter of a millisecond of CPU on the project's machine (a wake-up and a PRAGMA), so an idle
# server spends 0.5 % of a core on it at this rate, and 7 % at 5 ms.
RECORD_WATCH_SECONDS = 0.05


class RecordChanges:
    """A mark that moves whenever stored records may have changed, as far as this process can tell.

    It moves at once after this process commits a record write (`moved`, called by the writers'
    post-commit step), and, while `watched`, within RECORD_WATCH_SECONDS of any other connection's
    commit to the SQLite file (`CallRecords.follow_writes`): other server processes, `callscope
    import` run beside the server. An answer checked against the store when the mark stood at `m` is
    still correct while the mark still stands at `m`. Without a watcher (PostgreSQL, or before it
    runs) nothing may be concluded from the mark.
    """

    def __init__(self) -> None:
        self._ticks = itertools.count(1)
        self.mark = 0
        self.watched = False

    def moved(self) -> None:
        """Stored records may have changed. Callable from any thread: every call leaves a mark never used before."""
        self.mark = next(self._ticks)


class CallRecords:
    """Read use cases over the call-records store."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._versions = store.VersionReader(database.engine)
        self.changes = RecordChanges()

    def get(self, tenant_id: str, record_id: str) -> bytes:
        """The record's JSON document; NotFound for unknown ids and other tenants' alike."""
        with self._database.connect() as conn:
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
        with self._database.connect() as conn:
            return store.list_documents(conn, tenant_id, query, limit)

    def count(self, tenant_id: str, query: RecordQuery) -> int:
        """How many records match."""
        with self._database.connect() as conn:
            return store.count(conn, tenant_id, query)

    async def follow_writes(self) -> None:
        """On SQLite, move `changes` whenever another connection commits, until cancelled (no-op elsewhere)."""
        seen = self._versions.commits()
        if seen is None:
            return
        self.changes.watched = True
        try:
            while True:
                await asyncio.sleep(RECORD_WATCH_SECONDS)
                commits = self._versions.commits()
                if commits != seen:
                    seen = commits
                    self.changes.moved()
        finally:
            self.changes.watched = False
