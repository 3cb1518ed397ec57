"""`callscope serve` as a process: it stops cleanly, answering the P-GETs still parked."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import httpx

from callscope.app import create_services
from callscope.config import Settings
from tests.conftest import TENANT
from tests.support.server import free_port, start_process
from tests.support.ucwa import UcwaClient


def test_stopping_answers_parked_p_gets_with_a_resync_to_the_same_batch(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    services = create_services(Settings(data_dir=data_dir))
    services.users.add(TENANT, "alice@example.com", "Alice", "pw")
    services.engine.dispose()
    port = free_port()
    server = start_process(data_dir, port, capture_stderr=True)
    try:
        client = UcwaClient(f"http://127.0.0.1:{port}")
        application = client.create_application(client.sign_in("alice@example.com", "pw")).json()
        events = application["_links"]["events"]["href"]
        answers: list[httpx.Response] = []
        parked = threading.Thread(target=lambda: answers.append(client.get(events, params={"timeout": "1800"})))
        parked.start()
        parked.join(timeout=1.5)  # parked, not answered
        assert answers == []
        server.send_signal(signal.SIGTERM)
        parked.join(timeout=30)
        _, stderr = server.communicate(timeout=30)
    finally:
        server.kill()
    assert server.returncode in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has stopped
    assert answers[0].status_code == 200
    links = answers[0].json()["_links"]
    assert links["resync"]["href"].endswith("events?ack=1") and "next" not in links
    assert answers[0].json()["sender"] == []
    assert b"Exception in ASGI application" not in stderr and b"Traceback" not in stderr, stderr.decode()
