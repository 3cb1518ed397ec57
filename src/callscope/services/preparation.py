"""Turning JSON lines into what the store writes: checked against the schema, completed, packed.

An import prepares its lines in chunks of a thousand. `Preparers` does it in the importing process
(the HTTP ingest endpoint) or in a pool of worker processes forked from it (`callscope import`),
which start with the schemas already built: decoding and checking a 17 KB record is most of an
import's work and holds the GIL, so only processes spread it over the cores. The workers read a
regular file themselves, a range of whole lines each; other input (standard input, a pipe) is
read here and handed on in chunks. Work goes out and comes back in order, a few pieces at a time
(a file of millions of lines is never all in memory), and the first invalid line fails the
import exactly as it would in one process.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import IO, Any, NamedTuple

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
RANGE_BYTES = 8 * 1024 * 1024  # a file's lines go to the workers in ranges of about this size
CHUNK_LINES = 1000  # lines handed on together when they are read here

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

    def __init__(self, preparer: DocumentPreparer, processes: int = 1, range_bytes: int = RANGE_BYTES) -> None:
        self._preparer = preparer
        self._processes = processes
        self._range_bytes = range_bytes
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
        for _, answer in self._in_order(_prepare_in_worker, ((chunk,) for chunk in chunks)):
            frame = _frame(answer, 0)  # (a chunk's line numbers are the file's already)
            yield answer[1], frame

    def encoded_file(
        self, source: Path | IO[bytes], checked: Callable[[int], None] | None = None
    ) -> Iterator[tuple[int, bytes]]:
        """As `encoded`, for the lines of a file or a stream; `checked(bytes)` is told as they are checked.

        Worker processes read their ranges of a file themselves: its bytes never pass through this
        process (reading and handing on a 17 KB line cost this process about 20 microseconds).
        """
        if self._pool is None or not (isinstance(source, Path) and source.is_file()):  # a pipe has no ranges
            with source.open("rb", buffering=READ_BUFFER) if isinstance(source, Path) else nullcontext(source) as lines:
                yield from self.encoded(chunks(_counted(lines, checked), CHUNK_LINES))
            return
        before = 0  # lines in the ranges already answered
        for (_, _, length), answer in self._in_order(_prepare_range_in_worker, line_ranges(source, self._range_bytes)):
            frame = _frame(answer, before)
            before += answer[0]
            if checked:
                checked(length)
            yield answer[1], frame

    def _in_order(self, work: Callable[..., Any], tasks: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, Any]]:
        """(task, answer) for each task given to the pool, in order, a few tasks ahead of the answers read."""
        assert self._pool is not None
        waiting: deque[tuple[tuple[Any, ...], AsyncResult[Any]]] = deque()
        for task in tasks:
            waiting.append((task, self._pool.apply_async(work, task)))
            if len(waiting) > self._processes * IN_FLIGHT_PER_PROCESS:
                task, pending = waiting.popleft()
                yield task, pending.get()
        while waiting:
            task, pending = waiting.popleft()
            yield task, pending.get()


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


class _Fault(NamedTuple):
    """An invalid line, as a worker reports it (exceptions with keyword fields do not unpickle)."""

    message: str
    line: int | None
    path: str | None


def _prepare_in_worker(chunk: Chunk) -> tuple[int, int, bytes] | _Fault:
    """Runs in a worker: (lines read, lines prepared, encoded frame), or the fault; a chunk has no blank
    lines, so both counts are its length."""
    assert _worker_preparer is not None
    try:
        return len(chunk), len(chunk), _encode(_worker_preparer, chunk)
    except InvalidDocument as fault:
        return _Fault(fault.detail, fault.line, fault.path)


def _prepare_range_in_worker(path: str, start: int, length: int) -> tuple[int, int, bytes] | _Fault:
    """Runs in a worker: (lines in the range, blank or not; lines prepared; encoded frame), or the fault,
    its line counted from the range's start."""
    with open(path, "rb") as stream:
        stream.seek(start)
        lines = stream.read(length).split(b"\n")
    if lines[-1] == b"":  # what follows the range's last line break
        lines.pop()
    chunk = [(number, line) for number, line in enumerate(lines, start=1) if line and not line.isspace()]
    answer = _prepare_in_worker(chunk)
    return answer if isinstance(answer, _Fault) else (len(lines), *answer[1:])


def _frame(answer: tuple[int, int, bytes] | _Fault, before: int) -> bytes:
    """The frame a worker answered with; InvalidDocument for a fault, its line moved on by `before` lines."""
    if isinstance(answer, _Fault):
        line = None if answer.line is None else answer.line + before
        raise InvalidDocument(answer.message, line=line, path=answer.path)
    return answer[2]


def line_ranges(path: Path, size: int) -> Iterator[tuple[str, int, int]]:
    """(path, start, length) of consecutive ranges of whole lines, each about `size` bytes or one longer line."""
    with path.open("rb") as stream:
        total = os.fstat(stream.fileno()).st_size
        start = 0
        while start < total:
            end = min(start + size, total)
            if end < total:
                stream.seek(end - 1)
                stream.readline()  # to the end of the line that byte is in
                end = stream.tell()
            yield str(path), start, end - start
            start = end


def _counted(stream: Iterable[bytes], checked: Callable[[int], None] | None) -> Iterator[bytes]:
    """The lines, `checked` told their bytes about once a READ_BUFFER."""
    unseen = 0
    for line in stream:
        unseen += len(line)
        if checked and unseen >= READ_BUFFER:
            checked(unseen)
            unseen = 0
        yield line
    if checked:
        checked(unseen)
