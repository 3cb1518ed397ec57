"""Import of Graph-shaped JSON Lines: call records and log rows, validated whole before any is written."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import msgspec
from sqlalchemy import Engine

from callscope.domain import call_records as records_domain
from callscope.domain.log_rows import StoredLogRow
from callscope.services.preparation import CHUNK_LINES, DocumentPreparer, Frame, Preparers, chunks
from callscope.services.schemas import Schemas
from callscope.services.subscriptions import Subscriptions
from callscope.storage import call_records as records_store
from callscope.storage import log_rows as log_rows_store
from callscope.storage.database import bulk_writes

BATCH = 1000  # lines per write (and per transaction when an import is not atomic)
SPOOL_MEMORY = 64 * 1024 * 1024  # prepared lines kept in memory before the spool moves to a temporary file


@dataclass
class ImportResult:
    """What an import did."""

    records_written: int = 0
    records_replaced: int = 0
    records_ignored: int = 0
    log_rows_written: int = 0
    lines: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts, for a report or a response body."""
        return {
            "lines": self.lines,
            "recordsWritten": self.records_written,
            "recordsReplaced": self.records_replaced,
            "recordsIgnored": self.records_ignored,
            "logRowsWritten": self.log_rows_written,
        }


class Ingestion:
    """Validates documents against the schema, then writes them."""

    def __init__(self, engine: Engine, schemas: Schemas, subscriptions: Subscriptions) -> None:
        self._engine = engine
        self._preparer = DocumentPreparer(schemas)
        self._subscriptions = subscriptions

    def import_lines(
        self,
        tenant_id: str,
        lines: Iterable[bytes],
        *,
        atomic: bool = True,
        written: Callable[[int, int], None] | None = None,
        preparers: Preparers | None = None,
    ) -> ImportResult:
        """Import JSON Lines: every line is validated before anything is written.

        An invalid line aborts the import with nothing written, and before the import ever asked for
        the database's write lock. The prepared lines wait in a spool (memory, then a temporary file),
        then are written in one transaction, or with `atomic=False` in one per BATCH lines: SQLite has
        one write lock, and live calls get it between batches instead of waiting for the whole file.
        Running an interrupted non-atomic import again completes it (what it wrote is then ignored as
        already stored, by the version rule). `written(done, total)` is told, in lines, after each commit.
        `preparers` checks the lines (`callscope import`: in worker processes); by default this process does.
        """
        with preparers or Preparers(self._preparer) as preparing:
            frames = preparing.encoded(chunks(lines, CHUNK_LINES))
            return self._import(tenant_id, frames, atomic=atomic, written=written)

    def import_file(
        self,
        tenant_id: str,
        source: Path | IO[bytes],
        preparers: Preparers,
        *,
        checked: Callable[[int], None] | None = None,
        written: Callable[[int, int], None] | None = None,
    ) -> ImportResult:
        """`import_lines(..., atomic=False)` of a file's lines (`callscope import`), which the worker processes
        read themselves, or of a stream's; `checked(bytes)` is told as they are checked."""
        with preparers as preparing:
            return self._import(tenant_id, preparing.encoded_file(source, checked), atomic=False, written=written)

    def _import(
        self,
        tenant_id: str,
        frames: Iterable[tuple[int, bytes]],
        *,
        atomic: bool,
        written: Callable[[int, int], None] | None,
    ) -> ImportResult:
        result = ImportResult()
        with _Spool() as spool:
            for count, frame in frames:
                result.lines += count
                spool.put(frame)
            transactions = [spool.batches()] if atomic else ([stored] for stored in spool.batches())
            done = 0
            with self._engine.connect() as connection, bulk_writes(connection) as conn:
                for batches in transactions:
                    with conn.begin():
                        for stored in batches:
                            self._flush(conn, tenant_id, stored, result)
                            done += len(stored)
                    self._subscriptions.committed()
                    if written:
                        written(done, result.lines)
        return result

    def preparers(self, processes: int) -> Preparers:
        """Where an import's lines are checked: `processes` worker processes, or this one for 1."""
        return Preparers(self._preparer, processes)

    def _flush(self, conn: Any, tenant_id: str, batch: Frame, result: ImportResult) -> None:
        if batch.records:
            existing = records_store.find_versions(conn, tenant_id, (r.id for r in batch.records))
            plan = records_domain.plan_writes(batch.records, existing)
            records_store.write(conn, tenant_id, plan.writes, plan.replaced)
            self._subscriptions.announce(conn, tenant_id, ((r.id, r.version, r.participant_ids) for r in plan.writes))
            result.records_written += len(plan.writes)
            result.records_replaced += len(plan.replaced)
            result.records_ignored += plan.ignored
        if batch.rows:
            log_rows_store.write(conn, tenant_id, batch.rows)
            result.log_rows_written += len(batch.rows)


class _Spool:
    """Prepared batches between validation and writing: in memory up to SPOOL_MEMORY bytes, then on disk."""

    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)  # noqa: SIM115 (closed by __exit__)
        self._decoder = msgspec.msgpack.Decoder(Frame)

    def __enter__(self) -> _Spool:
        return self

    def __exit__(self, *_: object) -> None:
        self._file.close()

    def put(self, frame: bytes) -> None:
        """Keep an encoded Frame."""
        self._file.write(len(frame).to_bytes(4, "big") + frame)

    def batches(self) -> Iterator[Frame]:
        """What was put, in order, in batches of BATCH records and log rows together (the last one fewer),
        whatever the frames held: a range of a file gives as many lines as fit in its bytes."""
        records: list[records_domain.StoredRecord] = []
        rows: list[StoredLogRow] = []
        self._file.seek(0)
        while header := self._file.read(4):
            frame = self._decoder.decode(self._file.read(int.from_bytes(header, "big")))
            records += frame.records
            rows += frame.rows
            while len(records) + len(rows) >= BATCH:
                taken = min(len(records), BATCH)
                yield Frame(records[:taken], rows[: BATCH - taken])
                del records[:taken], rows[: BATCH - taken]
        if records or rows:
            yield Frame(records, rows)
