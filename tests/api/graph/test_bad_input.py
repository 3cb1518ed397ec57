"""Bad requests get Graph's error envelope with the right status and code, never a 5xx."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from callscope.app import Services
from tests.conftest import OTHER_TENANT, READ, TENANT, TokenFactory
from tests.support.documents import big_record, demo_records, jsonl

RECORDS = "/v1.0/communications/callRecords"


@pytest.fixture
def record_id(services: Services) -> str:
    record = big_record(3, record_id="rec-1")
    services.ingestion.import_lines(TENANT, jsonl([record, *demo_records(3)]).splitlines())
    return "rec-1"


def assert_graph_error(response: httpx.Response, status: int, code: str, target: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["innerError"]["request-id"] == response.headers["request-id"]
    assert error["innerError"]["date"]
    if target is not None:
        assert error.get("target") == target, error
    return dict(error)


@pytest.mark.parametrize(
    ("query", "target"),
    [
        ("$filter=startDateTime ge", "$filter"),
        ("$filter=endDateTime ge 2026-01-01T00:00:00Z", "$filter"),
        ("$filter=startDateTime eq 2026-01-01T00:00:00Z", "$filter"),
        ("$filter=startDateTime ge 2026-01-01T00:00:00Z or startDateTime lt 2025-01-01", "$filter"),
        ("$filter=participants_v2/any(p:p/displayName eq 'x')", "$filter"),
        ("$top=-1", "$top"),
        ("$top=abc", "$top"),
        ("$top=%C2%B2", "$top"),  # a superscript two: a digit to str.isdigit, not to int (once a 500)
        ("$top=" + "9" * 5000, "$top"),  # more digits than int parses (once a 500)
        ("$skiptoken=not-a-token", "$skiptoken"),
        ("$skiptoken=WzEsMl0", "$skiptoken"),
        ("$skiptoken=" + "W1tb" * 1500, "$skiptoken"),  # base64 of 4,500 "[": a RecursionError, once a 500
        ("$select=nonsense", "$select"),
        ("$orderby=startDateTime", "$orderby"),
        ("$search=foo", "$search"),
        ("$bogus=1", "$bogus"),
        ("$count=maybe", "$count"),
    ],
)
def test_malformed_or_unsupported_list_options_are_400_naming_the_option(
    client: httpx.Client, record_id: str, query: str, target: str
) -> None:
    assert_graph_error(client.get(f"{RECORDS}?{query}"), 400, "BadRequest", target)


@pytest.mark.parametrize(
    ("query", "target"),
    [
        ("$expand=nonsense", "$expand"),
        ("$expand=sessions($expand=media)", "$expand"),
        ("$expand=sessions($top=1)", "$expand"),
        ("$expand=sessions(", "$expand"),
        ("$expand=" + "sessions($expand=" * 600 + "segments" + ")" * 600, "$expand"),  # once a 500
        ("$expand=", "$expand"),
        ("$select=id,nope", "$select"),
        ("$expand=sessions($select=bogus)", "$select"),
        ("$top=1", "$top"),
    ],
)
def test_malformed_options_on_one_record_are_400_naming_the_option(
    client: httpx.Client, record_id: str, query: str, target: str
) -> None:
    assert_graph_error(client.get(f"{RECORDS}/{record_id}?{query}"), 400, "BadRequest", target)


@pytest.mark.parametrize(
    "path",
    [
        f"{RECORDS}/no-such-record",
        f"{RECORDS}/rec-1/sessions/no-such-session",
        f"{RECORDS}/rec-1/sessions/session-0000/segments/no-such-segment",
        f"{RECORDS}/rec-1/participants_v2/nobody",
        f"{RECORDS}/rec-1/nonsense",
        "/v1.0/communications/somethingElse",
        f"{RECORDS}/microsoft.graph.callRecords.getSmsLog(fromDateTime=2026-01-01,toDateTime=2026-01-02)",
    ],
)
def test_unknown_ids_and_paths_are_404(client: httpx.Client, record_id: str, path: str) -> None:
    assert_graph_error(client.get(path), 404, "NotFound")


def test_an_id_with_a_nul_character_is_not_a_server_error(
    client: httpx.Client, record_id: str, database_url: str
) -> None:
    """PostgreSQL cannot compare text with a NUL in it (once a 500): 400 there, 404 on SQLite."""
    status, code = (400, "BadRequest") if database_url.startswith("postgresql") else (404, "NotFound")
    for path in (f"{RECORDS}/x%00y", "/v1.0/subscriptions/x%00y"):  # looked up in the store
        assert_graph_error(client.get(path), status, code)
    assert_graph_error(client.get(f"{RECORDS}/{record_id}/sessions/x%00y"), 404, "NotFound")  # inside the record


@pytest.mark.parametrize(
    ("range_text", "status", "code"),
    [
        ("fromDateTime=2026-01-01,toDateTime=2026-06-01", 406, "NotAcceptable"),
        ("fromDateTime=2026-02-01,toDateTime=2026-01-01", 400, "BadRequest"),
        ("fromDateTime=yesterday,toDateTime=2026-01-01", 400, "BadRequest"),
        ("fromDateTime=2026-01-01", 400, "BadRequest"),
        ("", 400, "BadRequest"),
    ],
)
def test_bad_function_ranges_are_rejected(
    client: httpx.Client, record_id: str, range_text: str, status: int, code: str
) -> None:
    assert_graph_error(client.get(f"{RECORDS}/getPstnCalls({range_text})"), status, code)


@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT", "DELETE"])
def test_write_methods_graph_does_not_offer_are_405(client: httpx.Client, record_id: str, method: str) -> None:
    response = client.request(method, f"{RECORDS}/{record_id}", json={"id": "x"})
    assert_graph_error(response, 405, "MethodNotAllowed")
    assert client.get(f"{RECORDS}/{record_id}").status_code == 200


def test_missing_expired_and_forged_tokens_are_401(base_url: str, make_token: TokenFactory, record_id: str) -> None:
    url = f"{base_url}{RECORDS}/{record_id}"
    expired = make_token(expires_in=-120)
    valid = make_token()
    header, payload, signature = valid.split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"
    for headers in (
        {},
        {"Authorization": "Basic abc"},
        {"Authorization": f"Bearer {expired}"},
        {"Authorization": f"Bearer {forged}"},
        {"Authorization": "Bearer not.a.jwt"},
    ):
        response = httpx.get(url, headers=headers)
        assert_graph_error(response, 401, "InvalidAuthenticationToken")
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_token_without_the_scope_is_403(base_url: str, make_token: TokenFactory, record_id: str) -> None:
    token = make_token(scopes=("Callscope.Ingest",))
    response = httpx.get(f"{base_url}{RECORDS}/{record_id}", headers={"Authorization": f"Bearer {token}"})
    assert_graph_error(response, 403, "Forbidden")


def test_the_pstn_scope_reads_log_rows_but_not_records(base_url: str, make_token: TokenFactory, record_id: str) -> None:
    headers = {"Authorization": f"Bearer {make_token(scopes=('CallRecord-PstnCalls.Read.All',))}"}
    logs = httpx.get(
        f"{base_url}{RECORDS}/getPstnCalls(fromDateTime=2026-09-01,toDateTime=2026-11-20)", headers=headers
    )
    assert logs.status_code == 200
    assert_graph_error(httpx.get(f"{base_url}{RECORDS}/{record_id}", headers=headers), 403, "Forbidden")


def test_another_tenant_sees_404_for_every_path_of_a_record(
    base_url: str, make_token: TokenFactory, record_id: str
) -> None:
    headers = {"Authorization": f"Bearer {make_token(tenant=OTHER_TENANT, scopes=(READ,))}"}
    for path in (
        "",
        "/sessions",
        "/sessions/session-0000",
        "/sessions/session-0000/segments",
        "/participants_v2",
        "/organizer_v2",
        "/sessions/$count",
    ):
        assert_graph_error(httpx.get(f"{base_url}{RECORDS}/{record_id}{path}", headers=headers), 404, "NotFound")
    listed = httpx.get(f"{base_url}{RECORDS}", headers=headers).json()
    assert listed["value"] == []


def test_client_request_id_is_echoed_in_errors(client: httpx.Client, record_id: str) -> None:
    response = client.get(f"{RECORDS}/nope", headers={"client-request-id": "abc-123"})
    error = assert_graph_error(response, 404, "NotFound")
    assert error["innerError"]["client-request-id"] == "abc-123"
    assert response.headers["client-request-id"] == "abc-123"


def test_a_bad_prefer_page_size_is_400(client: httpx.Client, record_id: str) -> None:
    for size in ("zero", "²", "9" * 5000):
        response = client.get(
            f"{RECORDS}/{record_id}/sessions", headers={"Prefer": f"odata.maxpagesize={size}".encode()}
        )
        assert_graph_error(response, 400, "BadRequest", "Prefer")
