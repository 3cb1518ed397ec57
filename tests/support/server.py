"""A real uvicorn server on 127.0.0.1: in a background thread, or as a `callscope serve` process."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve the app on a free loopback port; yield its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_process(
    data_dir: Path,
    port: int,
    database_url: str | None = None,
    capture_stderr: bool = False,
    shared_store: bool = False,
) -> subprocess.Popen[bytes]:
    """`callscope serve` in a process of its own, once it answers (its stderr piped if asked for).

    `shared_store`: other server processes use the same database (CALLSCOPE_SHARED_STORE=1).
    """
    command = [sys.executable, "-m", "callscope", "serve", "--port", str(port), "--data-dir", str(data_dir)]
    if database_url is not None:
        command += ["--database-url", database_url]
    server = subprocess.Popen(
        command,
        env={
            **os.environ,
            "CALLSCOPE_EVENT_CHANNEL_FLOOR_SECONDS": "0",
            "CALLSCOPE_SHARED_STORE": "1" if shared_store else "0",
        },
        stderr=subprocess.PIPE if capture_stderr else None,
    )
    if answers(port, 30):
        return server
    server.kill()
    raise RuntimeError("callscope did not start")


def answers(port: int, seconds: float) -> bool:
    """Whether a server on this port answers `/healthz` within that long."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return True
        except httpx.TransportError:
            time.sleep(0.1)
    return False


@contextmanager
def sqlite_write_lock(database_url: str) -> Iterator[Callable[[], None]]:
    """SQLite's one write lock, held by another connection (as a long write would) inside the block, or until
    the function it gives is called (from any thread)."""
    writer = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    guard = threading.Lock()

    def release() -> None:
        with guard:
            if writer.in_transaction:
                writer.execute("ROLLBACK")

    try:
        yield release
    finally:
        release()
        writer.close()
