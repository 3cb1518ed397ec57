"""Import of Graph-shaped JSON Lines: call records and log rows, validated whole before any is written."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import Engine

from callscope.domain import call_records as records_domain
from callscope.domain.documents import odata_type, strip_annotations
from callscope.domain.log_rows import KINDS_BY_TYPE, StoredLogRow, stored_log_row
from callscope.errors import InvalidDocument
from callscope.services.schemas import Schemas
from callscope.services.subscriptions import Subscriptions
from callscope.storage import call_records as records_store
from callscope.storage import log_rows as log_rows_store

CALL_RECORD = "microsoft.graph.callRecords.callRecord"
BATCH = 1000  # lines per write (and per transaction when an import is not atomic)
SPOOL_MEMORY = 64 * 1024 * 1024  # prepared lines kept in memory before the spool moves to a temporary file
# Response annotations a stored document must not keep (every `@odata.` name but `@odata.type`).
_ANNOTATION = re.compile(rb'@odata\.(?!type")')

Prepared = records_domain.StoredRecord | StoredLogRow


class _Probe(msgspec.Struct):
    odata_type: str = msgspec.field(name="@odata.type", default="")


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


class DocumentPreparer:
    """Turns one JSON line into what the store writes: validated, completed, encoded, packed."""

    def __init__(self, schemas: Schemas) -> None:
        self._types = schemas.documents
        self._probe = msgspec.json.Decoder(_Probe)
        self._decoders = {
            name: msgspec.json.Decoder(self._types.struct(name)) for name in (CALL_RECORD, *KINDS_BY_TYPE)
        }
        self._encoder = msgspec.json.Encoder()

    def prepare(self, number: int, line: bytes) -> Prepared:
        """One line's record or log row; InvalidDocument names the line and the JSON path of a fault."""
        type_name = self._type_of(number, line)
        value = self._decode(number, line, type_name)
        self._types.fill_open_types(value, type_name)
        if type_name == CALL_RECORD:
            if _ANNOTATION.search(line):
                strip_annotations(value, self._types)
            return records_domain.stored_record(value, records_store.pack(self._encoder.encode(value)))
        kind = KINDS_BY_TYPE[type_name]
        row = stored_log_row(kind, value, self._encoder.encode(value))
        if row is None:
            raise InvalidDocument(
                f"a {kind.type_name} needs one of {', '.join(kind.time_fields)}",
                line=number,
                path="$",
            )
        return row

    def _type_of(self, number: int, line: bytes) -> str:
        try:
            declared = self._probe.decode(line).odata_type
        except msgspec.ValidationError as exc:
            raise InvalidDocument(str(exc).split(" - at ")[0], line=number, path="$") from exc
        except msgspec.DecodeError as exc:
            raise InvalidDocument(f"not valid JSON: {exc}", line=number, path="$") from exc
        if not declared:
            return CALL_RECORD
        for name in self._decoders:
            if odata_type(name) == declared:
                return name
        raise InvalidDocument(f"unsupported @odata.type {declared!r}", line=number, path="$['@odata.type']")

    def _decode(self, number: int, line: bytes, type_name: str) -> Any:
        try:
            return self._decoders[type_name].decode(line)
        except msgspec.ValidationError as exc:
            message, _, path = str(exc).partition(" - at `")
            raise InvalidDocument(message, line=number, path=path.rstrip("`") or "$") from exc


class Ingestion:
    """Validates documents against the schema, then writes them."""

    def __init__(self, engine: Engine, schemas: Schemas, subscriptions: Subscriptions) -> None:
        self._engine = engine
        self.preparer = DocumentPreparer(schemas)
        self._subscriptions = subscriptions

    def import_lines(
        self,
        tenant_id: str,
        lines: Iterable[bytes],
        *,
        atomic: bool = True,
        written: Callable[[int, int], None] | None = None,
    ) -> ImportResult:
        """Import JSON Lines: every line is validated before anything is written.

        An invalid line aborts the import with nothing written, and before the import ever asked for
        the database's write lock. The prepared lines wait in a spool (memory, then a temporary file),
        then are written in one transaction, or with `atomic=False` in one per BATCH lines: SQLite has
        one write lock, and live calls get it between batches instead of waiting for the whole file.
        Running an interrupted non-atomic import again completes it (what it wrote is then ignored as
        already stored, by the version rule). `written(done, total)` is told, in lines, after each commit.
        """
        result = ImportResult()
        with _Spool() as spool:
            batch = _Batch()
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                result.lines += 1
                batch.add(self.preparer.prepare(number, line))
                if len(batch) >= BATCH:
                    spool.put(batch)
            spool.put(batch)
            transactions = [spool.batches()] if atomic else ([stored] for stored in spool.batches())
            done = 0
            for batches in transactions:
                with self._engine.begin() as conn:
                    for stored in batches:
                        self._flush(conn, tenant_id, stored, result)
                        done += len(stored)
                self._subscriptions.committed()
                if written:
                    written(done, result.lines)
        return result

    def _flush(self, conn: Any, tenant_id: str, batch: _Batch, result: ImportResult) -> None:
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


class _Batch:
    """Prepared records and log rows waiting for one write."""

    def __init__(
        self, records: list[records_domain.StoredRecord] | None = None, rows: list[StoredLogRow] | None = None
    ) -> None:
        self.records = records or []
        self.rows = rows or []

    def __len__(self) -> int:
        return len(self.records) + len(self.rows)

    def add(self, item: Prepared) -> None:
        if isinstance(item, records_domain.StoredRecord):
            self.records.append(item)
        else:
            self.rows.append(item)

    def clear(self) -> None:
        self.records.clear()
        self.rows.clear()


class _Frame(msgspec.Struct, array_like=True):
    records: list[records_domain.StoredRecord]
    rows: list[StoredLogRow]


class _Spool:
    """Prepared batches between validation and writing: in memory up to SPOOL_MEMORY bytes, then on disk."""

    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)  # noqa: SIM115 (closed by __exit__)
        self._encoder = msgspec.msgpack.Encoder()
        self._decoder = msgspec.msgpack.Decoder(_Frame)

    def __enter__(self) -> _Spool:
        return self

    def __exit__(self, *_: object) -> None:
        self._file.close()

    def put(self, batch: _Batch) -> None:
        """Keep the batch's contents and empty it."""
        if len(batch):
            frame = self._encoder.encode(_Frame(batch.records, batch.rows))
            self._file.write(len(frame).to_bytes(4, "big") + frame)
            batch.clear()

    def batches(self) -> Iterator[_Batch]:
        """The batches put, in order."""
        self._file.seek(0)
        while header := self._file.read(4):
            frame = self._decoder.decode(self._file.read(int.from_bytes(header, "big")))
            yield _Batch(frame.records, frame.rows)
