"""Turning JSON lines into what the store writes: checked against the schema, completed, packed.

An import prepares its lines in chunks of a thousand. `Preparers` does it in the importing process
(the HTTP ingest endpoint) or in a pool of worker processes forked from it (`callscope import`),
which start with the schemas already built: decoding and checking a 17 KB record is most of an
import's work and holds the GIL, so only processes spread it over the cores. Chunks go out and
come back in order, a few at a time (a file of millions of lines is never all in memory), and a
chunk's first invalid line fails the import exactly as it would in one process.
"""

from __future__ import annotations

import multiprocessing
import re
from collections import deque
from collections.abc import Iterable, Iterator
from multiprocessing.pool import AsyncResult, Pool
from typing import Any

import msgspec

from callscope.domain import call_records as records_domain
from callscope.domain.documents import odata_type, strip_annotations
from callscope.domain.log_rows import KINDS_BY_TYPE, StoredLogRow, stored_log_row
from callscope.errors import InvalidDocument
from callscope.services.schemas import Schemas
from callscope.storage import call_records as records_store

CALL_RECORD = "microsoft.graph.callRecords.callRecord"
# Response annotations a stored document must not keep (every `@odata.` name but `@odata.type`).
_ANNOTATION = re.compile(rb'@odata\.(?!type")')
# A NUL character, written as JSON writes it (`\u0000` not preceded by an escaped backslash): PostgreSQL's
# text cannot hold one, and no Graph client expects one, so no document may carry it, on either store.
_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
IN_FLIGHT_PER_PROCESS = 2  # chunks handed to each worker ahead of the one being read back
# What an import reads its file with: reading a 17 KB line through the default 8 KiB buffer took
# 13.5 microseconds, through this one 3.0.
READ_BUFFER = 1024 * 1024

Prepared = records_domain.StoredRecord | StoredLogRow
Chunk = list[tuple[int, bytes]]  # (line number, line) of the lines that are not blank


class Frame(msgspec.Struct, array_like=True):
    """A prepared chunk as it travels between processes and waits in the import's spool."""

    records: list[records_domain.StoredRecord]
    rows: list[StoredLogRow]

    def __len__(self) -> int:
        return len(self.records) + len(self.rows)


class _Probe(msgspec.Struct):
    odata_type: str = msgspec.field(name="@odata.type", default="")


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
        try:
            return self._prepared(number, line)
        except RecursionError as exc:  # msgspec's, past about 1,000 levels of nesting, or a walk of the value
            raise InvalidDocument("the document nests too deeply", line=number, path="$") from exc

    def _prepared(self, number: int, line: bytes) -> Prepared:
        # One byte's search first (1 microsecond for 17 KB; the six bytes' took 8.5): most lines escape nothing.
        if b"\\" in line and b"\\u0000" in line and _NUL.search(line):
            raise InvalidDocument(
                "a string holds a NUL character (\\u0000), which callscope does not store", line=number
            )
        try:  # most lines are call records: read as one straight away, the type probe only when that fails
            type_name, value = CALL_RECORD, self._decoders[CALL_RECORD].decode(line)
        except (msgspec.ValidationError, msgspec.DecodeError):  # a log row, or a fault: named as before
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


class Preparers:
    """Prepares chunks in this process (`processes=1`) or in a pool of forked worker processes.

    Fork, not spawn: a worker starts in milliseconds with the parent's schemas and decoders instead of
    building them again (seconds). The pool is made before the caller starts threads of its own (a
    progress display), as forking a threaded process is unsafe; it is ended with the context.
    """

    def __init__(self, preparer: DocumentPreparer, processes: int = 1) -> None:
        self._preparer = preparer
        self._processes = processes
        self._pool: Pool | None = None
        if processes > 1:
            self._pool = multiprocessing.get_context("fork").Pool(processes, _adopt, (preparer,))

    def __enter__(self) -> Preparers:
        return self

    def __exit__(self, *_: object) -> None:
        if self._pool is not None:
            self._pool.terminate()  # nothing to wait for: every answer needed has been read, or the import failed
            self._pool.join()

    def encoded(self, chunks: Iterable[Chunk]) -> Iterator[tuple[int, bytes]]:
        """(lines, encoded Frame) for each chunk, in order; InvalidDocument at the first invalid line."""
        if self._pool is None:
            for chunk in chunks:
                yield len(chunk), _encode(self._preparer, chunk)
            return
        waiting: deque[tuple[int, AsyncResult[Any]]] = deque()
        for chunk in chunks:
            waiting.append((len(chunk), self._pool.apply_async(_prepare_in_worker, (chunk,))))
            if len(waiting) > self._processes * IN_FLIGHT_PER_PROCESS:
                yield _answer(*waiting.popleft())
        while waiting:
            yield _answer(*waiting.popleft())


def chunks(lines: Iterable[bytes], size: int) -> Iterator[Chunk]:
    """Numbered lines that are not blank, `size` at a time."""
    chunk: Chunk = []
    for number, line in enumerate(lines, start=1):
        if line and not line.isspace():  # (strip() would copy each line)
            chunk.append((number, line))
            if len(chunk) >= size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def _encode(preparer: DocumentPreparer, chunk: Chunk) -> bytes:
    frame = Frame([], [])
    for number, line in chunk:
        item = preparer.prepare(number, line)
        if isinstance(item, records_domain.StoredRecord):
            frame.records.append(item)
        else:
            frame.rows.append(item)
    return _FRAMES.encode(frame)


_FRAMES = msgspec.msgpack.Encoder()
_worker_preparer: DocumentPreparer | None = None  # set in each worker process by the pool's initializer


def _adopt(preparer: DocumentPreparer) -> None:
    global _worker_preparer
    _worker_preparer = preparer


def _prepare_in_worker(chunk: Chunk) -> bytes | tuple[str, int | None, str | None]:
    """Runs in a worker: the encoded frame, or the fault (exceptions with keyword fields do not unpickle)."""
    assert _worker_preparer is not None
    try:
        return _encode(_worker_preparer, chunk)
    except InvalidDocument as fault:
        return (fault.detail, fault.line, fault.path)


def _answer(lines: int, pending: AsyncResult[Any]) -> tuple[int, bytes]:
    answer = pending.get()
    if isinstance(answer, tuple):
        message, line, path = answer
        raise InvalidDocument(message, line=line, path=path)
    return lines, answer
