"""The floor under bench/live.py: a Starlette app that does nothing, served the way callscope is.

    .venv/bin/python bench/floor.py --port 8123      (live.py starts and stops it by itself)

Every request gets the same small JSON body at once: no authentication, no database, no events.
The same load generator at the same concurrency against it shows how many HTTP exchanges a second
this machine manages between one uvicorn process and the benches' client (bench/client.py), so callscope's setup rate
can be read as a share of what any server written this way could reach here.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.client import Client
from bench.live import cpu_seconds
from callscope.cli.main import SERVER_OPTIONS

BODY = b'{"_links":{"self":{"href":"/ucwa/oauth/v1/applications/a/events?ack=2"}},"sender":[]}'


async def answer(_request: Request) -> Response:
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST", "DELETE"])])


async def exchanges(base: str, level: int, total: int, pid: int) -> tuple[float, float]:
    """`total` requests from `level` workers, each one at a time: requests/s and server CPU ms per request."""
    headers = {"Authorization": "Bearer x" * 40, "Accept": "application/json"}  # a token's worth of header
    async with Client(base) as http:
        remaining = [total]

        async def worker() -> None:
            while remaining[0] > 0:
                remaining[0] -= 1
                assert (await http.get("/ucwa/oauth/v1/applications/a/events", headers=headers)).status == 200

        started, cpu = time.perf_counter(), cpu_seconds(pid)
        await asyncio.gather(*(worker() for _ in range(level)))
        elapsed = time.perf_counter() - started
    return total / elapsed, (cpu_seconds(pid) - cpu) * 1000 / total


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    uvicorn.run(app, host="127.0.0.1", port=parser.parse_args().port, **SERVER_OPTIONS)
