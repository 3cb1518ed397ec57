"""Benchmark: the least work an import of these records needs on this machine, beside callscope's import.

    .venv/bin/python bench/import_floor.py [--records 20000]

Any importer that keeps the records readable the way callscope serves them has to do three things
with each line: read the JSON and check it against the schema, shrink it, and insert it with its
index entries (id, start time, one row per participant). Each is timed here alone, on one core,
with nothing of callscope's around it:

- parse: `msgspec.json.decode` into plain objects (no schema; the least any reader does);
- check: the same decode into callscope's schema types (what telling a valid record from an invalid
  one costs: types, enums, required properties, timestamp syntax);
- compress: zstd at level 1, callscope's stored form (17 KB become ~2.4 KB);
- insert: sqlite3's `executemany` of rows already built into callscope's own tables (made by its
  migrations), 1,000 a transaction, with the import's connection settings.

The ideal rate is what those steps would give if they spread over every core with no cost for
spreading them, and the single writer (SQLite has one) never waited: cores / (check + compress +
insert), and at most 1 / insert. A real import adds reading the file, moving lines between processes
and completing documents; callscope's own import of the same file is measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import msgspec
import zstandard

from callscope.app import create_services
from callscope.config import Settings
from callscope.services.preparation import CALL_RECORD
from callscope.storage.database import BULK_CACHE_KIB, BULK_CHECKPOINT_PAGES

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.records import TENANT, generate, measure_import

BATCH = 1000


class _Participant(msgspec.Struct):
    id: str


class _Head(msgspec.Struct):
    id: str
    version: int
    participants_v2: list[_Participant] = []


_HEAD = msgspec.json.Decoder(_Head)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="callscope-floor-"))
    try:
        path = work / "records.jsonl"
        generate(args.records, path)
        lines = path.read_bytes().splitlines()
        steps = measure_steps(work, lines)
        ours, _ = measure_import(work / "import", path)
        report(steps, ours, os.cpu_count() or 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure_steps(work: Path, lines: list[bytes]) -> dict[str, float]:
    """Microseconds of CPU per record for each step alone."""
    services = create_services(Settings(data_dir=work / "floor"))
    checker = msgspec.json.Decoder(services.schemas.documents.struct(CALL_RECORD))
    compressor = zstandard.ZstdCompressor(level=1)
    steps = {
        "parse": per_record(lines, msgspec.json.decode),
        "check": per_record(lines, checker.decode),
        "compress": per_record(lines, compressor.compress),
    }
    heads = [_HEAD.decode(line) for line in lines]
    records = [
        (TENANT, head.id, head.version, n, n, compressor.compress(line))
        for n, (head, line) in enumerate(zip(heads, lines, strict=True))
    ]
    links = [[(TENANT, p.id, n, head.id) for p in head.participants_v2] for n, head in enumerate(heads)]
    services.engine.dispose()
    steps["insert"] = insert_rate(work / "floor" / "callscope.sqlite3", records, links)
    return steps


def per_record(lines: list[bytes], step: Callable[[bytes], object]) -> float:
    started = time.process_time()
    for line in lines:
        step(line)
    return (time.process_time() - started) / len(lines) * 1e6


def insert_rate(path: Path, records: list[tuple[object, ...]], links: list[list[tuple[object, ...]]]) -> float:
    """Microseconds of wall time per record for the bare inserts into callscope's own tables."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute(f"PRAGMA wal_autocheckpoint={BULK_CHECKPOINT_PAGES}")
    conn.execute(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
    started = time.perf_counter()
    for start in range(0, len(records), BATCH):
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO call_records (tenant_id, id, version, start_us, end_us, document) VALUES (?, ?, ?, ?, ?, ?)",
            records[start : start + BATCH],
        )
        conn.executemany(
            "INSERT INTO call_record_participants (tenant_id, participant_id, start_us, record_id) VALUES (?, ?, ?, ?)",
            [link for group in links[start : start + BATCH] for link in group],
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed / len(records) * 1e6


def report(steps: dict[str, float], ours: float, cores: int) -> None:
    for name, micros in steps.items():
        print(f"  {name:<9} {micros:6.1f} us a record")
    needed = steps["check"] + steps["compress"] + steps["insert"]
    ideal = min(cores / needed, 1 / steps["insert"]) * 1e6
    least = min(cores / (steps["parse"] + steps["compress"] + steps["insert"]), 1 / steps["insert"]) * 1e6
    print(f"ideal on {cores} cores, check + compress + insert ({needed:.1f} us): {ideal:,.0f} records/s")
    print(f"ideal on {cores} cores with no schema check at all (parse instead of check): {least:,.0f} records/s")
    print(f"callscope's import of the same file: {ours:,.0f} records/s, {ours / ideal:.2f} of the ideal")


if __name__ == "__main__":
    main()
