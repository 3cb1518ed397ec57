"""Benchmark: import rate and GET throughput of call records, each beside a baseline of the same run.

    .venv/bin/python bench/records.py [--records 100000] [--duration 10] [--connections 64] [--workers 1,2]

1. Import: N demo records go through callscope's importer (schema validation, version rule,
   SQLite WAL) and, as the baseline, through a raw sqlite3 `executemany` of the same bytes into
   an identical table. Reported: records/s for both and their ratio.
2. Read: `GET /v1.0/communications/callRecords/{id}?$expand=sessions($expand=segments)` under
   wrk (Debian's) at 64 connections, beside nginx (Debian's, one worker process per core) serving
   the identical response bytes as a static file. callscope is measured with one server process
   and with as many as nginx has (`--workers`, `callscope serve --workers N`). Each server gets
   2 s of the same load first, not measured (steady state, not start-up). Reported:
   requests/s, p50, p99, and the ratio of throughputs.

Needs `apt-get install wrk nginx-light`. Everything listens on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import msgspec

from callscope.app import create_services
from callscope.auth.tokens import issue_token, load_or_create_key
from callscope.config import Settings
from callscope.services.demo import DemoData

TENANT = "bench-tenant"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per target")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--workers",
        default=f"1,{os.cpu_count()}",
        help="callscope server processes to measure the GET with, comma-separated (nginx runs one per core)",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="callscope-bench-"))
    try:
        lines = work / "records.jsonl"
        record_id = generate(args.records, lines)
        ours, raw = measure_import(work, lines)
        print(f"import: callscope {ours:,.0f} records/s; raw sqlite3 insert {raw:,.0f} rows/s; ratio {ours / raw:.2f}")
        workers = sorted({int(n) for n in args.workers.split(",")})
        measure_reads(work, record_id, args.duration, args.connections, workers)
    finally:
        shutil.rmtree(work, ignore_errors=True)


DISTINCT = 20_000  # records the demo generator makes; past that, they repeat under new ids


def generate(count: int, path: Path) -> str:
    """Write `count` demo records to a JSON Lines file (streamed: a million fit on disk, not in memory).

    The demo generator makes about 600 records a second on a slow machine, so a million would take
    half an hour: the first 20,000 are generated, and the rest repeat them, each under an id of its
    own (the import does the same work for a repeat: it validates, packs and indexes every line).
    """
    started = time.perf_counter()
    demo = DemoData(42, datetime.now(UTC), TENANT)
    encoder = msgspec.json.Encoder()
    distinct: list[tuple[bytes, bytes]] = []
    with path.open("wb") as out:
        for n in range(count):
            if n < DISTINCT:
                record = demo.call_record()
                line = encoder.encode(record)
                distinct.append((line, str(record["id"]).encode()))
            else:
                line, old_id = distinct[n % DISTINCT]
                line = line.replace(old_id, str(uuid.UUID(int=n, version=4)).encode(), 1)
            out.write(line + b"\n")
    with path.open("rb") as lines:
        first = msgspec.json.decode(next(lines))["id"]
    size = path.stat().st_size / count
    print(f"generated {count:,} demo records ({size:,.0f} bytes each) in {time.perf_counter() - started:.1f} s")
    return str(first)


def measure_import(work: Path, lines: Path, processes: int | None = None) -> tuple[float, float]:
    """callscope's importer of the file, as `callscope import` runs it (the lines read and checked by one
    process per core unless `processes` says otherwise); then the baseline."""
    services = create_services(Settings(data_dir=work / "data"))
    checkers = services.ingestion.preparers(processes or os.cpu_count() or 1)
    started = time.perf_counter()
    result = services.ingestion.import_file(TENANT, lines, checkers)
    ours = result.lines / (time.perf_counter() - started)
    services.engine.dispose()
    return ours, raw_sqlite_rate(work / "raw.sqlite3", lines)


def raw_sqlite_rate(path: Path, lines: Path) -> float:
    """The floor: the same bytes into the same shape of table, keys read beforehand, 1,000 rows a batch."""
    with lines.open("rb") as stream:
        keys = [(head["id"], head["version"]) for head in map(msgspec.json.decode, stream)]
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE r (tenant_id TEXT, id TEXT, version INT, start_us INT, end_us INT, document BLOB,"
        " PRIMARY KEY (tenant_id, id))"
    )
    conn.execute("CREATE INDEX ix ON r (tenant_id, start_us, id)")
    with lines.open("rb") as stream, conn:
        started = time.perf_counter()
        batch = []
        for n, line in enumerate(stream):
            batch.append((TENANT, keys[n][0], keys[n][1], n, n, line))
            if len(batch) == 1000:
                conn.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?, ?)", batch)
                batch = []
        conn.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?, ?)", batch)
    rate = len(keys) / (time.perf_counter() - started)
    conn.close()
    return rate


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, headers: dict[str, str] | None = None) -> bytes:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, headers=headers, timeout=5)
            if response.status_code == 200:
                return response.content
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def measure_reads(work: Path, record_id: str, duration: int, connections: int, workers: list[int]) -> None:
    """wrk against callscope with each number of server processes, then against nginx with the same bytes."""
    key = load_or_create_key(work / "data")
    token = issue_token(
        key, tenant_id=TENANT, scopes=["CallRecords.Read.All"], subject="bench", expires_in=3600, now=time.time()
    )
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/v1.0/communications/callRecords/{record_id}?$expand=sessions($expand=segments)"
    started = time.perf_counter()
    os.sync()  # the imports' data reaches the disk now, not while callscope is measured (nginx comes last)
    print(f"waited {time.perf_counter() - started:.1f} s for the imports' writes to reach the disk")
    results = {}
    for count in workers:
        port = free_port()
        command = [sys.executable, "-m", "callscope", "serve", "--port", str(port), "--data-dir", str(work / "data")]
        server = subprocess.Popen([*command, "--workers", str(count)])
        try:
            body = wait_for(f"http://127.0.0.1:{port}{path}", headers)
            results[count] = wrk(f"http://127.0.0.1:{port}{path}", duration, connections, headers, warm_up=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
    static = nginx_rate(work, body, duration, connections)
    print(f"GET record ($expand=sessions($expand=segments), {len(body):,} bytes), {connections} connections, SQLite:")
    for count, ours in results.items():
        print(
            f"  callscope, {count} process{'es' if count > 1 else ''}: {ours['rps']:,.0f} req/s,"
            f" p50 {ours['p50']:.2f} ms, p99 {ours['p99']:.2f} ms; ratio to nginx {ours['rps'] / static['rps']:.3f}"
        )
    print(
        f"  nginx static file ({os.cpu_count()} worker processes): {static['rps']:,.0f} req/s,"
        f" p50 {static['p50']:.2f} ms, p99 {static['p99']:.2f} ms"
    )


def nginx_rate(work: Path, body: bytes, duration: int, connections: int) -> dict[str, float]:
    root = work / "nginx"
    (root / "html").mkdir(parents=True)
    (root / "html" / "record.json").write_bytes(body)
    port = free_port()
    user = "user root;" if os.geteuid() == 0 else ""
    (root / "nginx.conf").write_text(
        f"{user} worker_processes auto; pid {root}/nginx.pid; error_log {root}/error.log;"
        f" events {{ worker_connections 1024; }}"
        f" http {{ access_log off; client_body_temp_path {root}; proxy_temp_path {root};"
        f" fastcgi_temp_path {root}; uwsgi_temp_path {root}; scgi_temp_path {root};"
        f" server {{ listen 127.0.0.1:{port}; root {root}/html;"
        f" location / {{ default_type application/json; }} }} }}"
    )
    nginx = subprocess.Popen(["nginx", "-p", str(root), "-c", str(root / "nginx.conf"), "-g", "daemon off;"])
    try:
        wait_for(f"http://127.0.0.1:{port}/record.json")
        return wrk(f"http://127.0.0.1:{port}/record.json", duration, connections, {}, warm_up=True)
    finally:
        nginx.terminate()
        nginx.wait(timeout=30)


WARM_UP_SECONDS = 2


def wrk(url: str, duration: int, connections: int, headers: dict[str, str], warm_up: bool = False) -> dict[str, float]:
    """Requests/s, p50 and p99 of `duration` seconds of load; after WARM_UP_SECONDS of the same load, unmeasured,
    when asked (a freshly started server fills its caches and connection pools first, nginx as callscope)."""
    if warm_up:
        wrk(url, WARM_UP_SECONDS, connections, headers)
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"the load run had failed requests:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "p50": _latency(output, "50%"), "p99": _latency(output, "99%")}


def _latency(output: str, label: str) -> float:
    match = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", output)
    assert match is not None, output
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]
    return float(match.group(1)) * scale


if __name__ == "__main__":
    main()
