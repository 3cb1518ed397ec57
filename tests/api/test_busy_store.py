"""A write that cannot get the database's lock in time: 503 with Retry-After in each dialect, nothing written.

SQLite has one write lock for the whole database (another process's write holds it, an HTTP import for
its whole body);
these tests hold it from another connection and give callscope half a second to wait for it.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from callscope.app import Services
from callscope.config import Settings
from tests.conftest import TENANT
from tests.support.documents import demo_records, jsonl
from tests.support.server import sqlite_write_lock
from tests.support.ucwa import UcwaClient, assert_valid_xml

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PostgreSQL locks rows


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        event_channel_floor_seconds=0,
        sqlite_busy_timeout_seconds=0.5,
    )


def test_an_import_that_cannot_get_the_lock_is_a_graph_503_and_writes_nothing(
    client: httpx.Client, database_url: str
) -> None:
    body = jsonl(demo_records(3))
    with sqlite_write_lock(database_url):
        answer = client.post("/callscope/ingest", content=body, headers={"Content-Type": "application/x-ndjson"})
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == "1"
    assert answer.json()["error"]["code"] == "serviceNotAvailable"
    assert answer.json()["error"]["innerError"]["request-id"]
    assert client.get("/v1.0/communications/callRecords/$count").text == "0"
    again = client.post("/callscope/ingest", content=body, headers={"Content-Type": "application/x-ndjson"})
    assert again.json()["recordsWritten"] == 3


def test_a_ucwa_change_that_cannot_get_the_lock_is_503_service_unavailable_in_json_and_xml(
    base_url: str, services: Services, database_url: str
) -> None:
    services.users.add(TENANT, "alice@example.com", "Alice", "pw")
    client = UcwaClient(base_url)
    application = client.create_application(client.sign_in("alice@example.com", "pw")).json()
    available = application["_embedded"]["me"]["_links"]["makeMeAvailable"]["href"]
    with sqlite_write_lock(database_url):
        as_json = client.post(available, json={"SupportedModalities": ["Audio"]})
        as_xml = client.post(available, json={"SupportedModalities": ["Audio"]}, headers={"Accept": "application/xml"})
    assert (as_json.status_code, as_json.headers["retry-after"], as_json.json()["code"]) == (
        503,
        "1",
        "ServiceUnavailable",
    )
    assert as_xml.status_code == 503
    assert assert_valid_xml(as_xml.content).findtext("{*}code") == "ServiceUnavailable"
    assert client.post(available, json={"SupportedModalities": ["Audio"]}).status_code == 204  # nothing was half-done
