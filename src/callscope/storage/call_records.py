"""The call-records store: documents keyed by tenant and id, indexed by start time and participant."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import msgspec
import zstandard
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    tuple_,
)

from callscope.domain.call_records import StoredRecord, participant_ids
from callscope.storage.compiled import Compiled
from callscope.storage.database import sqlite_commit_count
from callscope.storage.tables import call_record_participants, call_records

_IN_CHUNK = 500


@dataclass(frozen=True)
class RecordQuery:
    """What a list of records is narrowed by; bounds are microseconds since the epoch."""

    start_lower: tuple[int, bool] | None = None  # (bound, inclusive)
    start_upper: tuple[int, bool] | None = None
    participant_ids: tuple[str, ...] = ()
    after: tuple[int, str] | None = None  # keyset: the last (start_us, id) already seen


# The two lookups on every read of one record, built once (statement building is not free).
_BY_KEY = (call_records.c.tenant_id == bindparam("tenant_id"), call_records.c.id == bindparam("record_id"))
_DOCUMENT = select(call_records.c.document).where(*_BY_KEY)
_VERSION = select(call_records.c.version).where(*_BY_KEY)
_FIND_VERSION = Compiled(_VERSION)
# An import writes thousands of rows a second: run on the driver's cursor, compiled once (decision 0008).
_INSERT_RECORDS = Compiled(insert(call_records).values({c.name: bindparam(f"v_{c.name}") for c in call_records.c}))
_INSERT_LINKS = Compiled(
    insert(call_record_participants).values({c.name: bindparam(f"v_{c.name}") for c in call_record_participants.c})
)


_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ZLIB_HEADER = b"\x78"  # documents written before zstd; still read
_codecs = threading.local()  # zstd contexts are reusable but not shareable between threads


def pack(document: bytes) -> bytes:
    """The stored form of a record's JSON document.

    zstd at level 1 shrinks a record about seven times in ~17 microseconds for 17 KB (zlib took
    ~60 for a slightly larger result); the smaller write pays for it and keeps large stores in
    the page cache.
    """
    if not hasattr(_codecs, "compressor"):
        _codecs.compressor = zstandard.ZstdCompressor(level=1)
    return bytes(_codecs.compressor.compress(document))


def unpack(stored: bytes) -> bytes:
    """The document bytes a stored value holds (zstd, zlib from before it, or plain)."""
    if stored[:4] == _ZSTD_MAGIC:
        if not hasattr(_codecs, "decompressor"):
            _codecs.decompressor = zstandard.ZstdDecompressor()
        return bytes(_codecs.decompressor.decompress(stored))
    return zlib.decompress(stored) if stored[:1] == _ZLIB_HEADER else stored


def find_document(conn: Connection, tenant_id: str, record_id: str) -> bytes | None:
    """The stored document of a record, or None."""
    row = conn.execute(_DOCUMENT, {"tenant_id": tenant_id, "record_id": record_id}).first()
    return unpack(row[0]) if row else None


def find_versions(conn: Connection, tenant_id: str, record_ids: Iterable[str]) -> dict[str, int]:
    """The stored version of each of these ids that exists."""
    ids = list(record_ids)
    found: dict[str, int] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        rows = conn.execute(
            select(call_records.c.id, call_records.c.version).where(
                call_records.c.tenant_id == tenant_id,
                call_records.c.id.in_(ids[start : start + _IN_CHUNK]),
            )
        )
        found.update({row.id: row.version for row in rows})
    return found


def write(conn: Connection, tenant_id: str, records: Iterable[StoredRecord], replaced: Iterable[str]) -> None:
    """Write records (their documents already `pack`ed), first removing the older versions they replace."""
    stale = list(replaced)
    for start in range(0, len(stale), _IN_CHUNK):
        chunk = stale[start : start + _IN_CHUNK]
        _forget_links(conn, tenant_id, chunk)
        conn.execute(delete(call_records).where(call_records.c.tenant_id == tenant_id, call_records.c.id.in_(chunk)))
    rows = [_record_row(tenant_id, r) for r in records]
    if rows:
        _INSERT_RECORDS.run_many(conn, rows)
    links = [
        {"v_tenant_id": tenant_id, "v_participant_id": p, "v_start_us": r.start_us, "v_record_id": r.id}
        for r in records
        for p in r.participant_ids
    ]
    if links:
        _INSERT_LINKS.run_many(conn, links)


_LINK = call_record_participants.c
_DELETE_LINK = delete(call_record_participants).where(
    *(column == bindparam(column.name) for column in call_record_participants.c)
)


def _forget_links(conn: Connection, tenant_id: str, record_ids: list[str]) -> None:
    """Remove the links of these stored records, found by what each stored version says (links are keyed
    by participant first, so a record's own are found from its participants and start time). Only a
    replacement comes here, so decoding each stored document whole costs little."""
    found = conn.execute(
        select(call_records.c.id, call_records.c.start_us, call_records.c.document).where(
            call_records.c.tenant_id == tenant_id, call_records.c.id.in_(record_ids)
        )
    )
    keys = [
        {"tenant_id": tenant_id, "participant_id": participant, "start_us": start_us, "record_id": record_id}
        for record_id, start_us, document in found
        for participant in participant_ids(msgspec.json.decode(unpack(document)))
    ]
    if keys:
        conn.execute(_DELETE_LINK, keys)


def _record_row(tenant_id: str, record: StoredRecord) -> dict[str, object]:
    """The record's columns, named as `_INSERT_RECORDS` binds them."""
    return {
        "v_tenant_id": tenant_id,
        "v_id": record.id,
        "v_version": record.version,
        "v_start_us": record.start_us,
        "v_end_us": record.end_us,
        "v_document": record.document,
    }


def list_documents(conn: Connection, tenant_id: str, query: RecordQuery, limit: int) -> list[tuple[int, str, bytes]]:
    """Up to `limit` (start_us, id, document) rows in start-time order, after the keyset."""
    if query.participant_ids:
        return _list_by_participant(conn, tenant_id, query, limit)
    start = call_records.c.start_us
    statement = (
        select(start, call_records.c.id, call_records.c.document)
        .where(call_records.c.tenant_id == tenant_id, *_bounds(start, query))
        .order_by(start, call_records.c.id)
        .limit(limit)
    )
    if query.after is not None:
        statement = statement.where(tuple_(start, call_records.c.id) > tuple_(*query.after))
    return [(row[0], row[1], unpack(row[2])) for row in conn.execute(statement)]


def _list_by_participant(
    conn: Connection, tenant_id: str, query: RecordQuery, limit: int
) -> list[tuple[int, str, bytes]]:
    """The page read from the participants' links, which are in start-time order: one participant's page
    stops after `limit` links, however many records the tenant has."""
    matches = (
        select(_LINK.start_us, _LINK.record_id)
        .where(*_linked_to(tenant_id, query))
        .distinct()
        .order_by(_LINK.start_us, _LINK.record_id)
        .limit(limit)
    )
    if query.after is not None:
        matches = matches.where(tuple_(_LINK.start_us, _LINK.record_id) > tuple_(*query.after))
    page = matches.subquery()
    statement = (
        select(page.c.start_us, page.c.record_id, call_records.c.document)
        .join(call_records, and_(call_records.c.tenant_id == tenant_id, call_records.c.id == page.c.record_id))
        .order_by(page.c.start_us, page.c.record_id)
    )
    return [(row[0], row[1], unpack(row[2])) for row in conn.execute(statement)]


def count(conn: Connection, tenant_id: str, query: RecordQuery) -> int:
    """How many records match."""
    if query.participant_ids:
        statement = select(func.count(_LINK.record_id.distinct())).where(*_linked_to(tenant_id, query))
    else:
        statement = select(func.count()).where(
            call_records.c.tenant_id == tenant_id, *_bounds(call_records.c.start_us, query)
        )
    return int(conn.execute(statement).scalar_one())


def _linked_to(tenant_id: str, query: RecordQuery) -> list[ColumnElement[bool]]:
    """The links of the query's participants within its time bounds."""
    return [
        _LINK.tenant_id == tenant_id,
        _LINK.participant_id.in_(query.participant_ids),
        *_bounds(_LINK.start_us, query),
    ]


def _bounds(start: ColumnElement[int], query: RecordQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.start_lower is not None:
        bound, inclusive = query.start_lower
        conditions.append(start >= bound if inclusive else start > bound)
    if query.start_upper is not None:
        bound, inclusive = query.start_upper
        conditions.append(start <= bound if inclusive else start < bound)
    return conditions


def find_version(conn: Connection, tenant_id: str, record_id: str) -> int | None:
    """The stored version of a record, or None; cheap (no document is read)."""
    rows = _FIND_VERSION.rows(conn, {"tenant_id": tenant_id, "record_id": record_id})
    return int(rows[0][0]) if rows else None


class VersionReader:
    """Reads stored record versions, the check in front of every cached answer, cheaply.

    On SQLite one connection is kept open and used without SQLAlchemy's per-call machinery
    (about a fifth of the cost); outside a transaction every SELECT sees the newest committed
    data. On PostgreSQL it takes pooled connections like any other read.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sqlite = engine.raw_connection() if engine.dialect.name == "sqlite" else None
        self._sql = str(_VERSION.compile(dialect=engine.dialect))

    def find(self, tenant_id: str, record_id: str) -> int | None:
        """The stored version of a record, or None."""
        if self._sqlite is None:
            with self._engine.connect() as conn:
                return find_version(conn, tenant_id, record_id)
        row = self._sqlite.execute(self._sql, (tenant_id, record_id)).fetchone()
        return int(row[0]) if row else None

    def commits(self) -> int | None:
        """On SQLite, a count that moves when other connections commit to the file; None elsewhere."""
        if self._sqlite is None:
            return None
        return sqlite_commit_count(self._sqlite)

    def close(self) -> None:
        """Give the held connection back."""
        if self._sqlite is not None:
            self._sqlite.close()
