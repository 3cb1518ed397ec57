"""Two server processes on one database (PostgreSQL, or one SQLite file): a call across the two processes."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from callscope.app import create_services
from callscope.config import Settings
from tests.support.server import free_port, start_process
from tests.support.ucwa import Party, sdp_offer

SDP = {"Content-Type": "application/sdp"}


@pytest.fixture(params=["postgresql", "sqlite"])
def shared_database(request: pytest.FixtureRequest) -> str | None:
    """A fresh PostgreSQL database, or None: the SQLite file in the shared data directory."""
    if request.param == "sqlite":
        return None
    postgres_url: str = request.getfixturevalue("postgres_url")
    name = f"scaleout_{os.getpid()}_{int(time.time() * 1000)}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return postgres_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def two_servers(shared_database: str | None, tmp_path: Path) -> Iterator[tuple[str, str]]:
    data_dir = tmp_path / "data"
    services = create_services(Settings(data_dir=data_dir, database_url=shared_database))
    services.users.add("tenant", "alice@example.com", "Alice", "pw-a")
    services.users.add("tenant", "bob@example.com", "Bob", "pw-b")
    services.engine.dispose()
    ports = [free_port(), free_port()]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for port in ports:  # one by one, so that the first is stopped if the second does not start
            processes.append(start_process(data_dir, port, database_url=shared_database, shared_store=True))
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        yield urls[0], urls[1]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)


def test_a_call_between_processes_wakes_the_other_process_at_once(two_servers: tuple[str, str]) -> None:
    first, second = two_servers
    alice = Party(first, "alice@example.com", "pw-a", "laptop")
    bob = Party(second, "bob@example.com", "pw-b", "desk")
    parked: dict[str, Any] = {}

    def park() -> None:
        started = time.monotonic()
        parked["events"] = bob.events(timeout="20")
        parked["waited"] = time.monotonic() - started

    thread = threading.Thread(target=park)
    thread.start()
    time.sleep(1.0)  # Bob's P-GET is parked in the second process
    response = alice.client.post(
        alice.start_audio_video, content=sdp_offer(), params={"to": "sip:bob@example.com"}, headers=SDP
    )
    assert response.status_code == 201
    thread.join(timeout=25)
    assert parked["waited"] < 5, "the signal from the first process woke the P-GET in the second"
    incoming = next(e for e in parked["events"] if e["link"]["rel"] == "audioVideoInvitation")
    accept = incoming["_embedded"]["audioVideoInvitation"]["_links"]["acceptWithAnswer"]["href"]
    assert bob.client.post(accept, content=sdp_offer(), headers=SDP).status_code == 204
    assert alice.wait_for("audioVideoInvitation", "completed")["status"] == "Success"
    session = alice.wait_for("audioVideoSession", "added")["_embedded"]["audioVideoSession"]
    assert alice.client.post(session["_links"]["audioVideo"]["href"] + "/stopAudioVideo").status_code == 204
    assert bob.wait_for("audioVideoSession", "deleted")
