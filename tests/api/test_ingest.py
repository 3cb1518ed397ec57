"""The ingestion endpoint: all or nothing, version rule, limits, scopes."""

from __future__ import annotations

import httpx
import pytest

from callscope.app import Services, create_app
from callscope.config import Settings
from callscope.services.call_records import RecordQuery
from tests.conftest import TENANT, TokenFactory
from tests.support.documents import big_record, demo_records, jsonl
from tests.support.server import serving

NDJSON = {"Content-Type": "application/x-ndjson"}
RECORDS = "/v1.0/communications/callRecords"


def test_ingest_writes_records_and_log_rows(client: httpx.Client) -> None:
    documents = demo_records(5)
    response = client.post("/callscope/ingest", content=jsonl(documents), headers=NDJSON)
    assert response.status_code == 200, response.text
    assert response.json()["recordsWritten"] == 5
    assert response.json()["logRowsWritten"] == 2
    assert client.get(f"{RECORDS}/$count").text == "5"


def test_a_higher_version_replaces_and_a_lower_or_equal_one_is_ignored(client: httpx.Client) -> None:
    record = big_record(2, record_id="versioned")
    client.post("/callscope/ingest", content=jsonl([{**record, "version": 2}]), headers=NDJSON)
    lower = client.post(
        "/callscope/ingest", content=jsonl([{**record, "version": 1, "type": "peerToPeer"}]), headers=NDJSON
    )
    assert lower.json()["recordsIgnored"] == 1
    assert client.get(f"{RECORDS}/versioned").json()["version"] == 2
    equal = client.post(
        "/callscope/ingest", content=jsonl([{**record, "version": 2, "type": "peerToPeer"}]), headers=NDJSON
    )
    assert equal.json()["recordsIgnored"] == 1
    higher = {**record, "version": 3, "participants_v2": [], "sessions": record["sessions"][:1]}
    assert client.post("/callscope/ingest", content=jsonl([higher]), headers=NDJSON).json()["recordsReplaced"] == 1
    stored = client.get(f"{RECORDS}/versioned?$expand=sessions").json()
    assert stored["version"] == 3
    assert len(stored["sessions"]) == 1


@pytest.mark.parametrize(
    ("bad_line", "where"),
    [
        (b"{not json", "line 3"),
        (b'{"id": "x"}', "line 3"),
        (b'{"@odata.type": "#microsoft.graph.callRecords.nope", "id": "x"}', "line 3"),
        (b'{"@odata.type": "#microsoft.graph.callRecords.pstnCallLogRow", "id": "x"}', "line 3"),
        (b"[1, 2]", "line 3"),
    ],
)
def test_an_invalid_line_names_its_line_and_writes_nothing(client: httpx.Client, bad_line: bytes, where: str) -> None:
    good = jsonl(demo_records(2)[:2])
    response = client.post("/callscope/ingest", content=good + bad_line + b"\n", headers=NDJSON)
    assert response.status_code == 400
    assert where in response.json()["error"]["message"]
    assert client.get(f"{RECORDS}/$count").text == "0"


def test_a_wrong_value_deep_in_a_record_names_its_json_path(client: httpx.Client) -> None:
    record = big_record(2)
    record["sessions"][1]["segments"][0]["media"][0]["streams"][0]["averageJitter"] = "fast"
    response = client.post("/callscope/ingest", content=jsonl([record]), headers=NDJSON)
    error = response.json()["error"]
    assert response.status_code == 400
    assert error["target"] == "$.sessions[1].segments[0].media[0].streams[0].averageJitter"
    assert "line 1" in error["message"]


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("startDateTime",), "2026-13-01T10:00:00Z"),  # a thirteenth month: once a 500
        (("endDateTime",), "2026-02-30T10:00:00Z"),
        (("sessions", 0, "startDateTime"), "2025-02-29T10:00:00Z"),  # not a leap year
        (("sessions", 0, "segments", 0, "endDateTime"), "2026-01-01T24:00:00Z"),
        (("lastModifiedDateTime",), "\u0662\u0660\u0662\u0666-01-01T10:00:00Z"),  # Arabic-Indic digits
        (("sessions", 0, "segments", 0, "media", 0, "streams", 0, "averageJitter"), "PT\u0663S"),
    ],
)
def test_an_impossible_timestamp_or_duration_is_a_400_naming_its_path(
    client: httpx.Client, where: tuple[str | int, ...], value: str
) -> None:
    record = big_record(1)
    parent = record
    for step in where[:-1]:
        parent = parent[step]
    parent[where[-1]] = value
    response = client.post("/callscope/ingest", content=jsonl([record]), headers=NDJSON)
    assert response.status_code == 400, response.text
    path = "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in where)
    assert response.json()["error"]["target"] == f"${path}"
    assert client.get(f"{RECORDS}/$count").text == "0"


def test_an_unknown_enum_member_is_rejected(client: httpx.Client) -> None:
    record = big_record(1)
    record["sessions"][0]["caller"]["userAgent"]["platform"] = "amiga"
    response = client.post("/callscope/ingest", content=jsonl([record]), headers=NDJSON)
    assert response.status_code == 400
    assert response.json()["error"]["target"] == "$.sessions[0].caller.userAgent.platform"


def test_a_version_beyond_64_bits_is_a_400_naming_it(client: httpx.Client) -> None:
    record = {**big_record(1), "version": 2**70}  # once a 500: neither store has a column for it
    response = client.post("/callscope/ingest", content=jsonl([record]), headers=NDJSON)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["target"] == "$.version"


def test_a_line_nested_past_the_decoders_depth_is_a_400_naming_it(client: httpx.Client) -> None:
    good = jsonl(demo_records(1)[:1])
    deep = b'{"id": "x", "sessions": ' + b"[" * 5000 + b"]" * 5000 + b"}\n"  # once a 500 (RecursionError)
    response = client.post("/callscope/ingest", content=good + deep, headers=NDJSON)
    assert response.status_code == 400, response.text
    assert "line 2" in response.json()["error"]["message"]
    assert client.get(f"{RECORDS}/$count").text == "0"


def test_a_nul_character_anywhere_in_a_document_is_a_400(client: httpx.Client) -> None:
    """PostgreSQL's text holds no NUL (a participant id carrying one was a 500 there): refused on both stores."""
    record = big_record(1)
    record["participants_v2"][0]["id"] = "a\u0000b"
    response = client.post("/callscope/ingest", content=jsonl([record]), headers=NDJSON)
    assert response.status_code == 400, response.text
    assert "NUL" in response.json()["error"]["message"]
    record["participants_v2"][0]["id"] = "a\\u0000b"  # a backslash, then the letters u0000: text like any other
    assert client.post("/callscope/ingest", content=jsonl([record]), headers=NDJSON).status_code == 200
    assert client.get(f"{RECORDS}/$count").text == "1"


def test_a_body_over_the_limit_is_413_and_writes_nothing(
    settings: Settings, services: Services, make_token: TokenFactory
) -> None:
    small = Settings(data_dir=settings.data_dir, database_url=settings.database_url, max_body_bytes=10_000)
    headers = {"Authorization": f"Bearer {make_token(scopes=('Callscope.Ingest', 'CallRecords.Read.All'))}", **NDJSON}
    with serving(create_app(small, services)) as url:
        body = jsonl(demo_records(20))
        assert len(body) > 10_000
        response = httpx.post(f"{url}/callscope/ingest", content=body, headers=headers)
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "RequestEntityTooLarge"
        chunked = httpx.post(f"{url}/callscope/ingest", content=iter([body]), headers=headers)
        assert chunked.status_code == 413
        assert httpx.get(f"{url}{RECORDS}/$count", headers=headers).text == "0"


def test_ingest_needs_its_own_scope_and_a_json_lines_body(base_url: str, make_token: TokenFactory) -> None:
    read_only = {"Authorization": f"Bearer {make_token()}", **NDJSON}
    response = httpx.post(f"{base_url}/callscope/ingest", content=jsonl(demo_records(1)), headers=read_only)
    assert response.status_code == 403
    writer = {"Authorization": f"Bearer {make_token(scopes=('Callscope.Ingest',))}", "Content-Type": "text/csv"}
    assert httpx.post(f"{base_url}/callscope/ingest", content=b"a,b", headers=writer).status_code == 400


def test_records_land_in_the_token_tenant_only(
    client: httpx.Client, base_url: str, make_token: TokenFactory, services: Services
) -> None:
    client.post("/callscope/ingest", content=jsonl([big_record(1, record_id="mine")]), headers=NDJSON)
    other = {"Authorization": f"Bearer {make_token(tenant='someone-else')}"}
    assert httpx.get(f"{base_url}{RECORDS}/mine", headers=other).status_code == 404
    assert services.call_records.count(TENANT, RecordQuery()) == 1
