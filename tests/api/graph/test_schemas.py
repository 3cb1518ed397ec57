"""Every response of the records API validates against the official OpenAPI schemas."""

from __future__ import annotations

from urllib.parse import unquote

import httpx
import pytest

from callscope.app import Services
from tests.conftest import TENANT
from tests.support.documents import big_record, demo_records, jsonl
from tests.support.openapi import component, response_schema, validate

NS = "microsoft.graph.callRecords"
FUNCTIONS = {
    "getPstnCalls": "pstnCallLogRow",
    "getDirectRoutingCalls": "directRoutingLogRow",
    "getSmsLog": "smsLogRow",
    "getPstnBlockedUsersLog": "pstnBlockedUsersLogRow",
    "getPstnOnlineMeetingDialoutReport": "pstnOnlineMeetingDialoutReport",
}
BETA_ONLY = {"getSmsLog", "getPstnBlockedUsersLog", "getPstnOnlineMeetingDialoutReport"}
EXTRA_ROWS = [
    {
        "@odata.type": f"#{NS}.smsLogRow",
        "id": "sms-1",
        "sentDateTime": "2026-10-02T08:00:00Z",
        "smsType": "outbound",
        "smsUnits": 1,
        "callCharge": 0.01,
        "currency": "USD",
        "destinationNumber": "+1425555****",
        "userId": "u",
    },
    {
        "@odata.type": f"#{NS}.pstnBlockedUsersLogRow",
        "blockDateTime": "2026-10-03T08:00:00Z",
        "remediationId": "r1",
        "userBlockMode": "blocked",
        "blockReason": "Fraud",
        "userTelephoneNumber": "+14255550100",
    },
]


@pytest.fixture
def record(services: Services) -> dict:
    document = big_record(70, record_id="rec-3")
    services.ingestion.import_lines(TENANT, jsonl([document, *demo_records(12), *EXTRA_ROWS]).splitlines())
    return document


@pytest.mark.parametrize("version", ["v1.0", "beta"])
def test_every_records_endpoint_answers_with_its_official_schema(
    client: httpx.Client, record: dict, version: str
) -> None:
    session = record["sessions"][2]["id"]
    segment = record["sessions"][2]["segments"][1]["id"]
    participant = record["participants_v2"][0]["id"]
    base = "/communications/callRecords"
    paths = [
        f"{base}",
        f"{base}?$filter=startDateTime ge 2026-01-01T00:00:00Z&$count=true&$top=3",
        f"{base}/rec-3",
        f"{base}/rec-3?$expand=sessions($expand=segments),participants_v2",
        f"{base}/rec-3?$select=id,type,modalities",
        f"{base}/rec-3/sessions",
        f"{base}/rec-3/sessions?$expand=segments",
        f"{base}/rec-3/sessions/{session}",
        f"{base}/rec-3/sessions/{session}/segments",
        f"{base}/rec-3/sessions/{session}/segments/{segment}",
        f"{base}/rec-3/participants_v2",
        f"{base}/rec-3/participants_v2/{participant}",
        f"{base}/rec-3/organizer_v2",
    ]
    for path in paths:
        response = client.get(f"/{version}{path}")
        assert response.status_code == 200, (path, response.text)
        validate(version, response_schema(version, unquote(path.split("?")[0]), 200), response.json())
        if "nextLink" in response.text:
            follow = response.json().get("@odata.nextLink") or response.json().get("sessions@odata.nextLink")
            validate(version, response_schema(version, unquote(path.split("?")[0].split("?")[0]), 200), response.json())
            assert client.get(follow).status_code == 200
    for path in (f"{base}/$count", f"{base}/rec-3/sessions/$count"):
        response = client.get(f"/{version}{path}")
        validate(version, response_schema(version, path, 200), int(response.text))


@pytest.mark.parametrize("version", ["v1.0", "beta"])
def test_every_function_row_validates_against_its_row_type(client: httpx.Client, record: dict, version: str) -> None:
    checked = 0
    for function, row_type in FUNCTIONS.items():
        if version == "v1.0" and function in BETA_ONLY:
            continue
        url = f"/{version}/communications/callRecords/{NS}.{function}(fromDateTime=2026-08-23,toDateTime=2026-11-20)"
        body = client.get(url).json()
        assert body["value"], function
        for row in body["value"]:
            validate(version, component(version, f"{NS}.{row_type}"), row)
            checked += 1
    assert checked > 0


@pytest.mark.parametrize("version", ["v1.0", "beta"])
def test_errors_validate_against_the_odata_error_schema(client: httpx.Client, record: dict, version: str) -> None:
    for path in ("/communications/callRecords/nope", "/communications/callRecords?$top=x"):
        response = client.get(f"/{version}{path}")
        assert response.status_code in (400, 404)
        validate(version, component(version, "microsoft.graph.ODataErrors.ODataError"), response.json())
