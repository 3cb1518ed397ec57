"""Benchmark: from hang-up to call record, and to the change notification, at a steady call rate.

    .venv/bin/python bench/bridge.py [--rate 100] [--calls 600] [--pairs 32]
                                     [--workers N] [--database-url postgresql://...]

Pairs of UCWA applications make calls over real HTTP at up to `--rate` calls a second (start →
accept → session → DELETE conversation), against `callscope serve` (`--workers N` processes) on
SQLite or, with `--database-url`, on a PostgreSQL database, as bench/live.py. A Graph subscription
sends change notifications to a webhook receiver in a process of its own. For every call
two delays are measured from the moment the DELETE is sent (so they include the hang-up
request itself, and the load generator's own delays): until `GET callRecord` answers 200 (polled
every 5 ms from when the hang-up returned), and until the `created` notification arrived. A third
starts from the record's `endDateTime`, the server's own clock when it handled the hang-up, and
ends when the notification arrived: the server's share, free of the load generator's delays. Reported: the achieved
call rate and p50/p99 of both delays. Everything listens on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.client import Client
from bench.live import TENANT, Party, free_port, one_call, pair, prepare, wait_until_up
from callscope.auth.tokens import issue_token
from callscope.domain.record_assembly import record_id


class Receiver:
    """Echoes the validation token; writes when each notification arrived ("record-id time" lines)."""

    def __init__(self, log: Path) -> None:
        self.log = log.open("a", buffering=1)
        self.app = Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])

    async def hook(self, request: Request) -> Response:
        token = request.query_params.get("validationToken")
        if token is not None:
            return PlainTextResponse(token)
        now = time.time()
        for item in (await request.json())["value"]:
            self.log.write(f"{item['resourceData']['id']} {now}\n")
        return Response(status_code=202)


def start_receiver(port: int, log: Path) -> subprocess.Popen[bytes]:
    """The webhook receiver in a process of its own, so the busy load generator does not delay it."""
    command = [sys.executable, __file__, "--receive", str(port), "--log", str(log)]
    receiver = subprocess.Popen(command)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.post(f"http://127.0.0.1:{port}/hook", params={"validationToken": "up"})
            return receiver
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the webhook receiver did not start")


def arrivals(log: Path) -> dict[str, float]:
    """When the first notification about each record arrived."""
    first: dict[str, float] = {}
    for line in log.read_text().splitlines():
        record, at = line.split()
        first.setdefault(record, float(at))
    return first


Measured = tuple[str, float, float, float]  # record id, hang-up sent, record GET-able, the server's end time


async def run_calls(base: str, key: Any, args: argparse.Namespace) -> tuple[list[Measured], float]:
    """What `call_and_measure` found for each call, and the achieved calls per second."""
    async with Client(base) as http:
        pairs = [await pair(http, key, i) for i in range(args.pairs)]
        reader = issue_token(
            key, tenant_id=TENANT, scopes=["CallRecords.Read.All"], subject="bench", expires_in=3600, now=time.time()
        )
        await subscribe(http, reader, args.receiver_url)
        results: list[Measured] = []
        started = time.perf_counter()
        schedule = iter(started + n / args.rate for n in range(args.calls))  # when each call may start

        async def worker(caller: Party, callee: Party, uri: str) -> None:
            for slot in schedule:
                await asyncio.sleep(max(0.0, slot - time.perf_counter()))
                results.append(await call_and_measure(http, caller, callee, uri, reader))

        await asyncio.gather(*(worker(*p) for p in pairs))
        return results, len(results) / (time.perf_counter() - started)


async def call_and_measure(http: Client, caller: Party, callee: Party, uri: str, reader: str) -> Measured:
    session = await one_call(caller, callee, uri)
    conversation = session["_links"]["conversation"]["href"]
    call_id = conversation.rsplit("/", 1)[1]
    hung_up = time.time()  # just before the hang-up is sent: the delays include the hang-up request itself
    assert (await caller.http.delete(conversation, headers=caller.headers)).status == 204
    key = record_id(TENANT, call_id)
    headers = {"Authorization": f"Bearer {reader}"}
    while (found := await http.get(f"/v1.0/communications/callRecords/{key}", headers=headers)).status != 200:
        await asyncio.sleep(0.005)
    ready = time.time()
    ended = datetime.fromisoformat(found.json()["endDateTime"]).timestamp()  # the server's clock at the hang-up
    return key, hung_up, ready, ended


async def subscribe(http: Client, token: str, url: str) -> None:
    body = {
        "changeType": "created",
        "notificationUrl": url,
        "resource": "/communications/callRecords",
        "expirationDateTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400)),
        "clientState": "bench",
    }
    created = await http.post("/v1.0/subscriptions", json=body, headers={"Authorization": f"Bearer {token}"})
    assert created.status == 201, created.text


def percentiles(values: list[float]) -> str:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return f"p50 {cuts[49] * 1000:,.1f} ms, p99 {cuts[98] * 1000:,.1f} ms, max {max(values) * 1000:,.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=100.0, help="calls started per second, at most")
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--pairs", type=int, default=32, help="caller/callee pairs calling at once")
    parser.add_argument("--receive", type=int, help=argparse.SUPPRESS)  # run as the webhook receiver on this port
    parser.add_argument("--log", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help="a PostgreSQL database instead of SQLite")
    parser.add_argument("--workers", type=int, default=1, help="server processes (callscope serve --workers N)")
    args = parser.parse_args()
    if args.receive:
        uvicorn.run(Receiver(args.log).app, host="127.0.0.1", port=args.receive, log_level="warning")
        return
    work = Path(tempfile.mkdtemp(prefix="callscope-bridge-"))
    log = work / "arrivals.txt"
    hook_port = free_port()
    hook_server = start_receiver(hook_port, log)
    args.receiver_url = f"http://127.0.0.1:{hook_port}/hook"
    try:
        key = prepare(work / "data", args.database_url, args.pairs)
        port = free_port()
        env = {**os.environ, "CALLSCOPE_EVENT_CHANNEL_FLOOR_SECONDS": "0"}
        command = [sys.executable, "-m", "callscope", "serve", "--port", str(port), "--data-dir", str(work / "data")]
        command += ["--workers", str(args.workers)]
        if args.database_url:
            command += ["--database-url", args.database_url]
        server = subprocess.Popen(command, env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base)
            results, rate = asyncio.run(run_calls(base, key, args))
            deadline = time.time() + 30
            while time.time() < deadline and any(r[0] not in arrivals(log) for r in results):
                time.sleep(0.5)
        finally:
            server.terminate()
            server.wait(timeout=30)
        arrived = arrivals(log)
        missing = [r[0] for r in results if r[0] not in arrived]
        print(f"{len(results):,} calls at {rate:,.1f} calls/s (asked for at most {args.rate:,.0f}), {args.pairs} pairs")
        print(f"  hang-up sent → record GET-able: {percentiles([ready - hung for _, hung, ready, _ in results])}")
        served = [arrived[k] - ended for k, _, _, ended in results if k in arrived]
        print(f"  hang-up as the server saw it (endDateTime) → webhook received: {percentiles(served)}")
        delays = [arrived[k] - hung for k, hung, _, _ in results if k in arrived]
        print(f"  hang-up sent → webhook received: {percentiles(delays)}; {len(missing)} notifications missing")
    finally:
        hook_server.terminate()
        hook_server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
