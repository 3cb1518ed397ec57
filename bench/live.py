"""Benchmark: live call setups per second, and memory with many idle established calls.

    .venv/bin/python bench/live.py [--levels 1,4,16,64] [--calls-per-level 300] [--idle 2000]
                                   [--workers N] [--database-url postgresql://...]

1. Setups: at each concurrency level, that many caller/callee pairs make calls back to back over
   real HTTP, exactly as UCWA clients do: startAudioVideo → the callee's P-GET delivers the
   invitation → acceptWithAnswer → the caller's P-GET delivers the session → DELETE conversation → both
   see the conversation deleted. Reported: completed setups per second per level, HTTP requests
   per setup, and the server process's CPU time per setup (which, unlike the rate, does not
   depend on how fast the load generator on the same machine is).
   Baseline, in the same run: bench/floor.py, a Starlette app that answers every request at once
   under the same uvicorn settings, driven by the same client at the same concurrency with as
   many requests. Reported: the setup rate that request rate allows, callscope's share of it,
   and the server CPU per request of both (the ratio is callscope's own cost).
2. Idle: `--idle N` calls are established and then both applications of each call park a P-GET
   (timeout 1,800 s). Reported: the server's resident memory before and with them parked, and
   along the way every 1,000 calls. Each process may hold at most `ulimit -n` connections: 10,000
   calls are 20,000 parked P-GETs, so the bench raises the limit of both processes (the hard limit
   too, which needs root; otherwise it says how many calls fit).

The server is a separate `callscope serve` on 127.0.0.1 (`--workers N` processes), stopped at the
end: on SQLite in a temporary directory, or with `--database-url` on a PostgreSQL database (each
run uses a tenant and users of its own, so the database may be reused).
Server CPU and memory are those of all callscope processes; a PostgreSQL server's CPU is reported
beside them when it runs on this machine and its data directory is readable.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.client import Client
from callscope.app import create_services
from callscope.auth.tokens import issue_token, load_or_create_key
from callscope.config import Settings

RUN = uuid.uuid4().hex[:8]
TENANT = f"bench-{RUN}"
DOMAIN = f"{RUN}.bench.example"  # user addresses are unique across tenants


def sdp() -> str:
    """A fresh audio description: each carries a session id of its own, as a browser's offers and answers do
    (the server then gains nothing from having seen the same text before)."""
    return (
        f"v=0\r\no=- {secrets.randbits(62)} 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
        "c=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendrecv\r\na=rtpmap:111 opus/48000/2\r\n"
    )


FAST = {"timeout": "30", "medium": "0", "low": "0"}
PARKED_TIMEOUT = 1900  # seconds the client waits for a P-GET parked with UCWA's longest timeout (1,800 s)


class Party:
    """One application: signs in with a token, makes itself available, reads its events."""

    def __init__(self, http: Client, token: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.app: dict[str, Any] = {}
        self.next = ""
        self.backlog: list[dict[str, Any]] = []

    async def open(self, device: str) -> None:
        body = {"UserAgent": "bench", "EndpointId": device, "Culture": "en-US"}
        self.app = (await self.http.post("/ucwa/oauth/v1/applications", json=body, headers=self.headers)).json()
        self.next = self.app["_links"]["events"]["href"]
        me = self.app["_embedded"]["me"]["_links"]["makeMeAvailable"]["href"]
        await self.http.post(me, json={"SupportedModalities": ["Audio"]}, headers=self.headers)

    async def wait_for(self, rel: str, type_: str) -> dict[str, Any]:
        while True:
            for index, event in enumerate(self.backlog):
                if event["link"]["rel"] == rel and event["type"] == type_:
                    del self.backlog[: index + 1]  # the steps of a call wait for its events in the order they come
                    return event
            batch = (await self.http.get(self.next, params=FAST, headers=self.headers)).json()
            self.next = batch["_links"]["next"]["href"]
            self.backlog += [e for group in batch["sender"] for e in group["events"]]


async def one_call(caller: Party, callee: Party, callee_uri: str) -> dict[str, Any]:
    start = caller.app["_embedded"]["communication"]["_links"]["startAudioVideo"]["href"]
    sdp_headers = {**caller.headers, "Content-Type": "application/sdp"}
    response = await caller.http.post(start, content=sdp(), params={"to": callee_uri}, headers=sdp_headers)
    assert response.status == 201, response.text
    invitation = (await callee.wait_for("audioVideoInvitation", "started"))["_embedded"]["audioVideoInvitation"]
    accept = invitation["_links"]["acceptWithAnswer"]["href"]
    answered = await callee.http.post(
        accept, content=sdp(), headers={**callee.headers, "Content-Type": "application/sdp"}
    )
    assert answered.status == 204, answered.text
    session = (await caller.wait_for("audioVideoSession", "added"))["_embedded"]["audioVideoSession"]
    await callee.wait_for("audioVideoSession", "added")
    return dict(session)


async def hang_up(caller: Party, callee: Party, session: dict[str, Any]) -> None:
    conversation = session["_links"]["conversation"]["href"]  # leaving ends the session and the conversation
    assert (await caller.http.delete(conversation, headers=caller.headers)).status == 204
    await caller.wait_for("conversation", "deleted")
    await callee.wait_for("conversation", "deleted")


async def pair(http: Client, key: Any, index: int) -> tuple[Party, Party, str]:
    def token(user: str) -> str:
        return issue_token(
            key,
            tenant_id=TENANT,
            scopes=["Conversations.Initiate", "Conversations.Receive"],
            subject=user,
            expires_in=3600,
            now=time.time(),
        )

    caller, callee = (
        Party(http, token(f"caller{index}@{DOMAIN}")),
        Party(http, token(f"callee{index}@{DOMAIN}")),
    )
    await caller.open(f"caller-{index}")
    await callee.open(f"callee-{index}")
    return caller, callee, f"sip:callee{index}@{DOMAIN}"


async def setups(
    base: str, key: Any, level: int, calls: int, first_user: int, pids: tuple[int, int | None]
) -> tuple[float, float, float, float | None]:
    """Setups per second, milliseconds of server CPU per setup, HTTP requests per setup, and milliseconds
    of the PostgreSQL server's CPU per setup (None on SQLite, or when that server is not on this machine)."""
    pid, postmaster = pids
    async with Client(base) as http:
        pairs = [await pair(http, key, first_user + i) for i in range(level)]
        remaining = [calls]

        async def worker(caller: Party, callee: Party, uri: str) -> int:
            done = 0
            while remaining[0] > 0:
                remaining[0] -= 1
                await hang_up(caller, callee, await one_call(caller, callee, uri))
                done += 1
            return done

        started, cpu, http.sent = time.perf_counter(), cpu_seconds(pid), 0
        database = postgres_cpu_seconds(postmaster) if postmaster else 0.0
        completed = sum(await asyncio.gather(*(worker(*p) for p in pairs)))
        per_setup = (cpu_seconds(pid) - cpu) * 1000 / completed
        database_per_setup = (postgres_cpu_seconds(postmaster) - database) * 1000 / completed if postmaster else None
        return completed / (time.perf_counter() - started), per_setup, http.sent / completed, database_per_setup


async def idle(base: str, key: Any, count: int, pid: int) -> tuple[float, float]:
    before = rss_mib(pid)
    parked: list[asyncio.Task[None]] = []
    async with Client(base, timeout=600) as http:
        try:
            for start in range(0, count, 100):  # pair up, call, and park at once: idle applications expire
                ids = range(start, min(count, start + 100))
                batch = await asyncio.gather(*(pair(http, key, i) for i in ids))
                await asyncio.gather(*(one_call(c, e, u) for c, e, u in batch))
                parked += [asyncio.create_task(park(p)) for c, e, _ in batch for p in (c, e)]
                if (start + 100) % 1000 == 0:
                    print(f"  {start + 100:,} idle calls parked: server RSS {rss_mib(pid):,.0f} MiB", flush=True)
            await asyncio.sleep(5)
            during = rss_mib(pid)
            failed = [task for task in parked if task.done()]
            if failed:  # a parked P-GET that came back with an error is not an idle call any more
                raise RuntimeError(f"{len(failed)} parked P-GETs failed, the first with {failed[0].exception()!r}")
        finally:
            for task in parked:
                task.cancel()
            await asyncio.gather(*parked, return_exceptions=True)
    return before, during


async def park(party: Party) -> None:
    """Keep a P-GET parked, as a client does, until cancelled.

    It asks for UCWA's longest timeout (1,800 s), so that parked polls do not come back during the
    run and keep the load generator (not the server) busy re-polling; the client waits longer than
    that (a run of 10,000 calls takes more than the clients' default ten minutes on a slow machine).
    """
    while True:
        response = await party.http.get(
            party.next, params={"timeout": "1800"}, headers=party.headers, timeout=PARKED_TIMEOUT
        )
        if response.status != 200:
            raise RuntimeError(f"a parked P-GET answered {response.status}: {response.text}")
        party.next = response.json()["_links"]["next"]["href"]


def cpu_seconds(pid: int) -> float:
    """User and system CPU a process and its children (server workers) have used."""
    return sum(sum(_times(member)[:2]) for member in process_tree(pid)) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds(postmaster: int) -> float:
    """CPU of a PostgreSQL server: the postmaster, its backends that have ended, and those running."""
    reaped = sum(_times(postmaster)[2:])  # the CPU of the children it has waited for
    return reaped / os.sysconf("SC_CLK_TCK") + cpu_seconds(postmaster)


def _times(pid: int) -> list[int]:
    """utime, stime, cutime and cstime from /proc/PID/stat, in clock ticks (zeros once it has ended)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return [0, 0, 0, 0]
    return [int(field) for field in fields[11:15]]


def find_postmaster(database_url: str | None) -> int | None:
    """The process id of the PostgreSQL server behind the URL, when it runs on this machine and is readable."""
    if not database_url:
        return None
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            data_directory = conn.execute(text("SHOW data_directory")).scalar_one()
        return int((Path(data_directory) / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError):
        return None
    finally:
        engine.dispose()


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children."""
    pages = sum(int(Path(f"/proc/{member}/statm").read_text().split()[1]) for member in process_tree(pid))
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def process_tree(pid: int) -> list[int]:
    """The process and its descendants (a PostgreSQL backend may end while they are listed)."""
    children = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            children += [int(child) for child in (task / "children").read_text().split()]
    except FileNotFoundError:
        return []
    return [pid, *(member for child in children for member in process_tree(child))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(data_dir: Path, database_url: str | None, users: int) -> Any:
    services = create_services(Settings(data_dir=data_dir, database_url=database_url))
    for index in range(users):
        for role in ("caller", "callee"):
            services.users.add(TENANT, f"{role}{index}@{DOMAIN}", f"{role} {index}", None)
    services.engine.dispose()
    return load_or_create_key(data_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="1,4,16,64")
    parser.add_argument("--calls-per-level", type=int, default=300)
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--database-url", help="a PostgreSQL database instead of SQLite")
    parser.add_argument("--workers", type=int, default=1, help="server processes (callscope serve --workers N)")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    fits = raise_open_files(2 * args.idle + 200)  # each process holds a socket per parked P-GET
    if args.idle > fits:
        sys.exit(f"open files are capped at {fits * 2 + 200:,} per process: at most {fits:,} idle calls fit")
    work = Path(tempfile.mkdtemp(prefix="callscope-live-"))
    try:
        print(f"preparing {args.idle + sum(levels):,} user pairs ...", flush=True)
        key = prepare(work / "data", args.database_url, args.idle + sum(levels))
        port = free_port()
        env = {**os.environ, "CALLSCOPE_EVENT_CHANNEL_FLOOR_SECONDS": "0"}
        command = [sys.executable, "-m", "callscope", "serve", "--port", str(port), "--data-dir", str(work / "data")]
        command += ["--workers", str(args.workers)]
        if args.database_url:
            command += ["--database-url", args.database_url]
        server = subprocess.Popen(command, env=env)
        base = f"http://127.0.0.1:{port}"
        postmaster = find_postmaster(args.database_url)
        try:
            wait_until_up(base)
            first_user = args.idle
            measured = {}
            for level in levels:
                rate, cpu, requests, database = asyncio.run(
                    setups(base, key, level, args.calls_per_level, first_user, (server.pid, postmaster))
                )
                measured[level] = (rate, cpu, requests)
                first_user += level
                print(
                    f"call setups at concurrency {level:>3}: {rate:,.1f} per second; {cpu:,.1f} ms of server CPU "
                    f"each{'' if database is None else f' (and {database:,.1f} ms of PostgreSQL)'}; "
                    f"{requests:.1f} HTTP requests each",
                    flush=True,
                )
            if args.idle:
                before, during = asyncio.run(idle(base, key, args.idle, server.pid))
                print(
                    f"server RSS: {before:,.0f} MiB before; {during:,.0f} MiB with {args.idle:,} established idle "
                    f"calls and {2 * args.idle:,} parked P-GETs ({(during - before) * 1024 / args.idle:,.1f} KiB "
                    f"per call)"
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
        if measured:
            compare_with_floor(measured)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def raise_open_files(wanted: int) -> int:
    """Let this process and the server it starts hold `wanted` files (the hard limit too, where allowed).

    Returns how many idle calls then fit: each takes two parked sockets in each process.
    """
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
            hard = wanted
        except (ValueError, OSError):  # not root, or a container without CAP_SYS_RESOURCE
            pass
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return (hard - 200) // 2


def compare_with_floor(measured: dict[int, tuple[float, float, float]]) -> None:
    """The same request pattern against bench/floor.py's no-op server: callscope's share of that ceiling."""
    from bench.floor import exchanges

    port = free_port()
    floor = subprocess.Popen([sys.executable, str(Path(__file__).with_name("floor.py")), "--port", str(port)])
    try:
        wait_until_up(f"http://127.0.0.1:{port}")
        for level, (rate, cpu, requests) in measured.items():
            total = max(2000, int(requests * 200))
            per_second, floor_cpu = asyncio.run(exchanges(f"http://127.0.0.1:{port}", level, total, floor.pid))
            ceiling = per_second / requests
            print(
                f"floor at concurrency {level:>3}: a no-op server takes {per_second:,.0f} requests/s = "
                f"{ceiling:,.1f} setups/s at {requests:.1f} requests each (callscope reaches {rate / ceiling:.2f} of "
                f"it); server CPU per request {cpu / requests:.2f} ms (callscope) vs {floor_cpu:.2f} ms (floor), "
                f"ratio {cpu / requests / floor_cpu:.1f}; one core's worth of server CPU is "
                f"{1000 / cpu:,.0f} setups/s (callscope) vs {1000 / (floor_cpu * requests):,.0f} (floor)",
                flush=True,
            )
    finally:
        floor.terminate()
        floor.wait(timeout=30)


def wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


if __name__ == "__main__":
    main()
