"""Checking lines in worker processes gives what checking them in the importing process gives."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from callscope.app import Services
from callscope.errors import InvalidDocument
from callscope.services.call_records import RecordQuery
from callscope.services.ingestion import BATCH
from callscope.services.preparation import (
    IN_FLIGHT_PER_PROCESS,
    Chunk,
    DocumentPreparer,
    Frame,
    Preparers,
    chunks,
    line_ranges,
)
from callscope.services.schemas import load_schemas
from tests.conftest import TENANT
from tests.support.documents import demo_records, jsonl

FRAMES = msgspec.msgpack.Decoder(Frame)


@pytest.fixture(scope="module")
def preparer() -> DocumentPreparer:
    return DocumentPreparer(load_schemas())


def lines(count: int, seed: int = 5) -> list[bytes]:
    return jsonl(demo_records(count, seed=seed)).splitlines()


def test_blank_lines_are_skipped_and_numbers_kept() -> None:
    numbered = list(chunks([b"a\n", b"", b"  ", b"\r\n", b"\t\n", b"b\n", b" c"], 2))
    assert numbered == [[(1, b"a\n"), (6, b"b\n")], [(7, b" c")]]


def test_worker_processes_prepare_the_same_frames_in_the_same_order(preparer: DocumentPreparer) -> None:
    source = list(chunks(lines(30), 4))
    with Preparers(preparer) as here, Preparers(preparer, processes=2) as there:
        alone = list(here.encoded(source))
        shared = list(there.encoded(source))
    assert [count for count, _ in shared] == [len(chunk) for chunk in source]
    assert [FRAMES.decode(frame) for _, frame in shared] == [FRAMES.decode(frame) for _, frame in alone]


def test_the_first_invalid_line_fails_as_it_does_in_one_process(preparer: DocumentPreparer) -> None:
    source = lines(12)
    source[9] = b'{"id": 1}'
    source[10] = b"{not json"
    failures = []
    for processes in (1, 2):
        with Preparers(preparer, processes) as preparing, pytest.raises(InvalidDocument) as failure:
            list(preparing.encoded(chunks(source, 3)))
        failures.append((failure.value.message, failure.value.line, failure.value.path))
    assert failures[0] == failures[1]
    assert failures[0][1] == 10


def test_only_a_few_chunks_are_read_ahead_of_the_answers(preparer: DocumentPreparer) -> None:
    """A file of millions of lines is never all in flight (nor in memory)."""
    source = list(chunks(lines(40), 1))
    pulled = 0

    def counted() -> Iterator[Chunk]:
        nonlocal pulled
        for chunk in source:
            pulled += 1
            yield chunk

    with Preparers(preparer, processes=2) as preparing:
        answers = preparing.encoded(counted())
        next(answers)
        assert pulled == 2 * IN_FLIGHT_PER_PROCESS + 1
        assert len(list(answers)) == len(source) - 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the store is not what is tested
def test_an_import_checked_in_worker_processes_stores_every_line(services: Services) -> None:
    source = lines(25)  # 25 records and the demo's log rows
    with services.ingestion.preparers(2) as preparing:
        result = services.ingestion.import_lines(TENANT, source, preparers=preparing, atomic=False)
    assert result.lines == len(source)
    assert result.records_written == 25 and result.log_rows_written == len(source) - 25
    assert services.call_records.count(TENANT, RecordQuery()) == 25


@pytest.mark.parametrize("tail", [b"\n", b""])
def test_line_ranges_cover_the_file_in_whole_lines(tmp_path: Path, tail: bytes) -> None:
    path = tmp_path / "lines.jsonl"
    path.write_bytes(b"a" * 5 + b"\n" + b"b" * 40 + b"\n\n" + b"c" * 3 + b"\r\n" + b"d" * 7 + tail)
    ranges = list(line_ranges(path, 4))
    data = path.read_bytes()
    assert [start for _, start, _ in ranges] == [0, 6, 47, 53]  # the 40-byte line is a range on its own
    assert sum(length for _, _, length in ranges) == len(data)
    assert all(data[start + length - 1 : start + length] == b"\n" for _, start, length in ranges[:-1])


def file_of(tmp_path: Path, source: list[bytes]) -> Path:
    path = tmp_path / "lines.jsonl"
    path.write_bytes(b"\n".join(source))  # no line break after the last line
    return path


def test_workers_reading_the_file_themselves_prepare_what_one_process_does(
    tmp_path: Path, preparer: DocumentPreparer
) -> None:
    source = lines(30)
    source[3:3] = [b"", b"  \r"]  # blank lines count as lines, and are skipped
    path = file_of(tmp_path, source)
    told: list[int] = []
    with Preparers(preparer) as here, Preparers(preparer, processes=2, range_bytes=20_000) as there:
        alone = list(here.encoded_file(path))
        shared = list(there.encoded_file(path, told.append))
    assert len(shared) > 3  # several ranges
    assert sum(count for count, _ in shared) == sum(count for count, _ in alone) == len(source) - 2
    records = [r for _, frame in alone for r in FRAMES.decode(frame).records]
    assert [r for _, frame in shared for r in FRAMES.decode(frame).records] == records
    assert sum(told) == path.stat().st_size


def test_a_fault_in_a_later_range_names_the_file_s_line(tmp_path: Path, preparer: DocumentPreparer) -> None:
    source = lines(30)
    source[2:2] = [b""]
    source[27] = b'{"id": 1}'
    path = file_of(tmp_path, source)
    failures = []
    for processes in (1, 2):
        with Preparers(preparer, processes, range_bytes=20_000) as preparing, pytest.raises(InvalidDocument) as failure:
            list(preparing.encoded_file(path))
        failures.append((failure.value.message, failure.value.line, failure.value.path))
    assert failures[0] == failures[1]
    assert failures[0][1] == 28


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_import_of_a_file_writes_batches_of_a_thousand_whatever_its_ranges_held(
    services: Services, tmp_path: Path
) -> None:
    source = lines(1500, seed=9)
    batches: list[int] = []
    with services.ingestion.preparers(2) as preparing:
        result = services.ingestion.import_file(
            TENANT, file_of(tmp_path, source), preparing, written=lambda done, total: batches.append(done)
        )
    assert result.lines == len(source)
    assert services.call_records.count(TENANT, RecordQuery()) == 1500
    sizes = [later - earlier for earlier, later in zip([0, *batches], batches, strict=False)]
    assert sizes == [BATCH] * (len(source) // BATCH) + [len(source) % BATCH]


def test_a_pipe_named_on_the_command_line_is_read_here(tmp_path: Path, preparer: DocumentPreparer) -> None:
    """`callscope import <(zcat records.jsonl.gz)`: a pipe has no size and no ranges, its lines are read."""
    source = lines(6)
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    writer = threading.Thread(target=pipe.write_bytes, args=(b"\n".join(source),), daemon=True)
    writer.start()
    with Preparers(preparer, processes=2) as preparing:
        prepared = list(preparing.encoded_file(pipe))
    writer.join(timeout=10)
    assert sum(count for count, _ in prepared) == len(source)
