"""Repeated reads of one record are answered from memory, and only while that is still correct."""

from __future__ import annotations

import time

import httpx
import pytest

from callscope.app import Services, create_services
from callscope.config import Settings
from callscope.services.call_records import RECORD_WATCH_SECONDS
from tests.conftest import OTHER_TENANT, TENANT, TokenFactory
from tests.support.documents import big_record, jsonl

URL = "/v1.0/communications/callRecords/hot?$expand=sessions($expand=segments)"


def test_a_cached_answer_gets_fresh_request_ids_and_echoes_the_client_id(
    client: httpx.Client, services: Services
) -> None:
    services.ingestion.import_lines(TENANT, jsonl([big_record(3, record_id="hot")]).splitlines())
    first = client.get(URL, headers={"client-request-id": "one"})
    second = client.get(URL, headers={"client-request-id": "two"})
    assert first.content == second.content
    assert first.headers["request-id"] != second.headers["request-id"]
    assert second.headers["client-request-id"] == "two"
    assert second.headers["content-type"] == first.headers["content-type"]
    assert int(second.headers["content-length"]) == len(second.content)


def test_another_tenant_never_gets_a_cached_answer(
    client: httpx.Client, services: Services, base_url: str, make_token: TokenFactory
) -> None:
    services.ingestion.import_lines(TENANT, jsonl([big_record(3, record_id="hot")]).splitlines())
    assert client.get(URL).status_code == 200
    assert client.get(URL).status_code == 200
    other = httpx.get(f"{base_url}{URL}", headers={"Authorization": f"Bearer {make_token(tenant=OTHER_TENANT)}"})
    assert other.status_code == 404
    unauthenticated = httpx.get(f"{base_url}{URL}")
    assert unauthenticated.status_code == 401


def test_a_replaced_record_is_never_answered_from_memory(client: httpx.Client, services: Services) -> None:
    record = big_record(3, record_id="hot")
    services.ingestion.import_lines(TENANT, jsonl([record]).splitlines())
    assert len(client.get(URL).json()["sessions"]) == 3
    assert len(client.get(URL).json()["sessions"]) == 3
    services.ingestion.import_lines(TENANT, jsonl([{**record, "version": 5, "sessions": []}]).splitlines())
    assert client.get(URL).json()["sessions"] == []


def test_a_record_another_process_replaces_is_served_new_within_moments(
    client: httpx.Client, services: Services, settings: Settings
) -> None:
    record = big_record(3, record_id="hot")
    services.ingestion.import_lines(TENANT, jsonl([record]).splitlines())
    assert len(client.get(URL).json()["sessions"]) == 3
    assert len(client.get(URL).json()["sessions"]) == 3
    elsewhere = create_services(settings)  # its own engine and services, as `callscope import` run beside the server
    try:
        elsewhere.ingestion.import_lines(TENANT, jsonl([{**record, "version": 5, "sessions": []}]).splitlines())
    finally:
        elsewhere.engine.dispose()
    deadline = time.monotonic() + 1.0
    while client.get(URL).json()["sessions"] != []:
        assert time.monotonic() < deadline, "the cache kept answering with the replaced version"
        time.sleep(0.002)


def test_the_store_is_read_again_only_when_records_may_have_changed(
    client: httpx.Client, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    services.ingestion.import_lines(TENANT, jsonl([big_record(3, record_id="hot")]).splitlines())
    lookups: list[str] = []
    find_version = services.call_records.find_version

    def counted(tenant_id: str, record_id: str) -> int | None:
        lookups.append(record_id)
        return find_version(tenant_id, record_id)

    monkeypatch.setattr(services.call_records, "find_version", counted)
    assert client.get(URL).status_code == 200
    time.sleep(3 * RECORD_WATCH_SECONDS)  # the watcher has seen the import's commits and moved the mark
    assert client.get(URL).status_code == 200  # checked again, once, if it did
    lookups.clear()
    for _ in range(5):
        assert client.get(URL).status_code == 200
    sqlite = services.engine.dialect.name == "sqlite"
    assert lookups == ([] if sqlite else ["hot"] * 5)  # no watcher on PostgreSQL: every answer is checked
    services.call_records.changes.moved()
    assert client.get(URL).status_code == 200
    assert lookups == (["hot"] if sqlite else ["hot"] * 6)
