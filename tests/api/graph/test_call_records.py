"""The shapes Graph gives: context, paging, expansion, selection, counts, filters, enums."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from callscope.app import Services
from tests.conftest import TENANT
from tests.support.documents import big_record, demo_records, jsonl

RECORDS = "/v1.0/communications/callRecords"


@pytest.fixture
def record(services: Services) -> dict:
    document = big_record(130, record_id="rec-2")
    document["sessions"][0]["caller"]["userAgent"]["productFamily"] = "azureCommunicationServices"
    services.ingestion.import_lines(TENANT, jsonl([document, *demo_records(25)]).splitlines())
    return document


def test_get_record_auto_expands_organizer_v2_and_pages_expanded_sessions(client: httpx.Client, record: dict) -> None:
    body = client.get(f"{RECORDS}/rec-2?$expand=sessions($expand=segments)").json()
    assert body["@odata.context"].endswith("/v1.0/$metadata#communications/callRecords/$entity")
    assert body["organizer_v2"]["id"] == record["organizer_v2"]["id"]
    assert len(body["sessions"]) == 60
    assert all(len(s["segments"]) == 2 for s in body["sessions"])
    next_link = body["sessions@odata.nextLink"]
    assert next_link.startswith("http://127.0.0.1:")
    rest = client.get(next_link).json()
    assert [s["id"] for s in rest["value"]] == [s["id"] for s in record["sessions"][60:120]]
    assert "segments" in rest["value"][0]
    last = client.get(rest["@odata.nextLink"]).json()
    assert len(last["value"]) == 10
    assert "@odata.nextLink" not in last


def test_sessions_honour_maxpagesize_top_and_select(client: httpx.Client, record: dict) -> None:
    page = client.get(
        f"{RECORDS}/rec-2/sessions?$select=id,modalities&$top=25", headers={"Prefer": "odata.maxpagesize=10"}
    ).json()
    assert [s["id"] for s in page["value"]] == [s["id"] for s in record["sessions"][:10]]
    assert set(page["value"][0]) <= {"@odata.type", "id", "modalities"}
    seen = page["value"]
    while "@odata.nextLink" in page:
        assert parse_qs(urlsplit(page["@odata.nextLink"]).query)["$select"] == ["id,modalities"]
        page = client.get(page["@odata.nextLink"], headers={"Prefer": "odata.maxpagesize=10"}).json()
        seen += page["value"]
    assert len(seen) == 25


def test_sessions_are_capped_at_60_even_when_more_are_preferred(client: httpx.Client, record: dict) -> None:
    page = client.get(f"{RECORDS}/rec-2/sessions", headers={"Prefer": "odata.maxpagesize=500"}).json()
    assert len(page["value"]) == 60


def test_counts_are_plain_text(client: httpx.Client, record: dict) -> None:
    for path, expected in (
        ("/$count", "26"),
        ("/rec-2/sessions/$count", "130"),
        ("/rec-2/sessions/session-0003/segments/$count", "2"),
        ("/rec-2/participants_v2/$count", str(len(record["participants_v2"]))),
    ):
        response = client.get(f"{RECORDS}{path}")
        assert response.headers["content-type"].startswith("text/plain")
        assert response.text == expected


def test_navigation_paths_reach_each_item(client: httpx.Client, record: dict) -> None:
    session = client.get(f"{RECORDS}/rec-2/sessions/session-0007?$expand=segments").json()
    assert session["id"] == "session-0007"
    assert [g["id"] for g in session["segments"]] == ["segment-0007-a", "segment-0007-b"]
    segment = client.get(f"{RECORDS}/rec-2/sessions/session-0007/segments/segment-0007-b").json()
    assert segment["id"] == "segment-0007-b"
    participant = record["participants_v2"][1]
    assert client.get(f"{RECORDS}/rec-2/participants_v2/{participant['id']}").json()["id"] == participant["id"]
    assert client.get(f"{RECORDS}('rec-2')/sessions('session-0001')").json()["id"] == "session-0001"
    assert client.get("/v1.0/Communications/CallRecords/rec-2/Sessions/session-0001").status_code == 200


def test_list_filters_by_start_and_participant_in_start_order(client: httpx.Client, record: dict) -> None:
    everything = client.get(f"{RECORDS}?$top=1000").json()["value"]
    starts = [r["startDateTime"] for r in everything]
    assert starts == sorted(starts)
    assert all("sessions" not in r for r in everything)
    assert all("organizer_v2" in r for r in everything)
    cut = starts[10]
    later = client.get(f"{RECORDS}", params={"$filter": f"startDateTime ge {cut} and startDateTime lt 2027-01-01"})
    assert [r["startDateTime"] for r in later.json()["value"]] == starts[10:]
    someone = record["participants_v2"][0]["id"]
    mine = client.get(RECORDS, params={"$filter": f"participants_v2/any(p:p/id eq '{someone}')", "$count": "true"})
    ids = {r["id"] for r in mine.json()["value"]}
    assert "rec-2" in ids
    assert mine.json()["@odata.count"] == len(ids)


def test_list_pages_with_absolute_next_links_until_top(client: httpx.Client, record: dict) -> None:
    page = client.get(f"{RECORDS}?$top=23", headers={"Prefer": "odata.maxpagesize=5"}).json()
    seen = []
    while True:
        seen += page["value"]
        if "@odata.nextLink" not in page:
            break
        assert page["@odata.nextLink"].startswith("http://")
        page = client.get(page["@odata.nextLink"], headers={"Prefer": "odata.maxpagesize=5"}).json()
    assert len(seen) == 23
    assert len({r["id"] for r in seen}) == 23


def test_future_enum_members_are_hidden_unless_asked_for(client: httpx.Client, record: dict) -> None:
    plain = client.get(f"{RECORDS}/rec-2/sessions/session-0000").json()
    assert plain["caller"]["userAgent"]["productFamily"] == "unknownFutureValue"
    opted = client.get(
        f"{RECORDS}/rec-2/sessions/session-0000", headers={"Prefer": "include-unknown-enum-members"}
    ).json()
    assert opted["caller"]["userAgent"]["productFamily"] == "azureCommunicationServices"


def test_function_forms_all_reach_the_same_rows(client: httpx.Client, record: dict) -> None:
    forms = [
        "getPstnCalls(fromDateTime=2026-08-01,toDateTime=2026-10-29)",
        "microsoft.graph.callRecords.getPstnCalls(fromDateTime=2026-08-01T00:00:00Z,toDateTime=2026-10-29T00:00:00Z)",
        "microsoft.graph.callRecords.getPstnCalls(fromDateTime=2026-08-01T00%3A00%3A00%2B00%3A00"
        "toDateTime=2026-10-29T00%3A00%3A00%2B00%3A00)",
        "getpstncalls(toDateTime='2026-10-29',fromDateTime='2026-08-01')",
    ]
    results = [client.get(f"{RECORDS}/{form}") for form in forms]
    assert all(r.status_code == 200 for r in results), [r.text for r in results]
    ids = [[row["id"] for row in r.json()["value"]] for r in results]
    assert ids[0]
    assert all(i == ids[0] for i in ids)


def test_function_rows_page_by_top_with_next_links(client: httpx.Client, record: dict) -> None:
    url = f"{RECORDS}/getDirectRoutingCalls(fromDateTime=2026-08-23,toDateTime=2026-11-20)"
    everything = client.get(url).json()["value"]
    page = client.get(url, headers={"Prefer": "odata.maxpagesize=3"}).json()
    seen = page["value"]
    while "@odata.nextLink" in page:
        page = client.get(page["@odata.nextLink"], headers={"Prefer": "odata.maxpagesize=3"}).json()
        seen += page["value"]
    assert [r["id"] for r in seen] == [r["id"] for r in everything]


def test_v1_hides_beta_only_log_row_fields(client: httpx.Client, services: Services) -> None:
    row = {
        "@odata.type": "#microsoft.graph.callRecords.pstnCallLogRow",
        "id": "row-1",
        "startDateTime": "2026-10-01T10:00:00Z",
        "clientPublicIpV4Address": "203.0.113.9",
        "callType": "conf_out",
        "userId": "u1",
        "duration": 60,
        "charge": 1.5,
        "connectionCharge": 0.5,
        "currency": "EUR",
        "usageCountryCode": "DE",
        "destinationContext": "International",
    }
    services.ingestion.import_lines(TENANT, jsonl([row]).splitlines())
    path = "communications/callRecords/getPstnCalls(fromDateTime=2026-09-01,toDateTime=2026-10-30)"
    assert "clientPublicIpV4Address" not in client.get(f"/v1.0/{path}").json()["value"][0]
    assert client.get(f"/beta/{path}").json()["value"][0]["clientPublicIpV4Address"] == "203.0.113.9"
    report = client.get(
        "/beta/communications/callRecords/getPstnOnlineMeetingDialoutReport("
        "fromDateTime=2026-09-01,toDateTime=2026-10-30)"
    ).json()["value"]
    assert report == [
        {
            "@odata.type": "#microsoft.graph.callRecords.pstnOnlineMeetingDialoutReport",
            "userId": "u1",
            "userPrincipalName": None,
            "userDisplayName": None,
            "usageLocation": "DE",
            "destinationContext": "International",
            "currency": "EUR",
            "totalCalls": 1,
            "totalCallSeconds": 60,
            "totalCallCharge": 2.0,
        }
    ]


def test_a_new_version_is_served_at_once_by_the_same_url(client: httpx.Client, services: Services) -> None:
    record = big_record(2, record_id="changing")
    services.ingestion.import_lines(TENANT, jsonl([record]).splitlines())
    url = f"{RECORDS}/changing?$expand=sessions"
    assert client.get(url).json()["version"] == 1
    assert client.get(url).json()["version"] == 1
    services.ingestion.import_lines(
        TENANT, jsonl([{**record, "version": 2, "sessions": record["sessions"][:1]}]).splitlines()
    )
    again = client.get(url).json()
    assert again["version"] == 2
    assert len(again["sessions"]) == 1
