"""Microsoft's own Graph SDKs (v1.0 and beta), unmodified, read what callscope serves."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration

from callscope.app import Services
from tests.conftest import TENANT, TokenFactory
from tests.support.compare import assert_same, sdk_json
from tests.support.documents import big_record, demo_records, jsonl
from tests.support.graph_sdk import beta_client, v1_client

PSTN_READ = ("CallRecords.Read.All",)


@pytest.fixture
def imported(services: Services) -> dict[str, Any]:
    """A 150-session record plus realistic demo records and log rows, imported for TENANT."""
    record = big_record(150)
    documents = [record, *demo_records(40)]
    services.ingestion.import_lines(TENANT, jsonl(documents).splitlines())
    return {"big": record, "documents": documents}


def _run(coroutine: Any, client: Any) -> Any:
    async def run_and_close() -> Any:
        try:
            return await coroutine
        finally:
            await client.request_adapter._http_client.aclose()

    return asyncio.run(run_and_close())


@pytest.mark.parametrize("flavour", ["v1.0", "beta"])
def test_sdk_gets_a_record_with_sessions_and_segments_expanded(
    flavour: str, base_url: str, make_token: TokenFactory, imported: dict[str, Any]
) -> None:
    record = imported["documents"][1]
    client = (v1_client if flavour == "v1.0" else beta_client)(base_url, make_token())
    builder = client.communications.call_records.by_call_record_id(record["id"])
    config = RequestConfiguration(
        query_parameters=builder.CallRecordItemRequestBuilderGetQueryParameters(
            expand=["sessions($expand=segments)", "participants_v2"]
        )
    )
    received = _run(builder.get(request_configuration=config), client)
    assert received.id == record["id"]
    assert len(received.sessions) == len(record["sessions"])
    assert_same(record, sdk_json(received))


def test_sdk_page_iterator_reads_150_sessions_in_three_pages_in_order(
    base_url: str, make_token: TokenFactory, imported: dict[str, Any]
) -> None:
    from msgraph_core.tasks.page_iterator import PageIterator

    class CountingPageIterator(PageIterator):  # type: ignore[misc]
        fetched = 0

        async def fetch_next_page(self) -> Any:
            CountingPageIterator.fetched += 1
            return await super().fetch_next_page()

    record = imported["big"]
    client = v1_client(base_url, make_token())
    builder = client.communications.call_records.by_call_record_id(record["id"]).sessions
    config = RequestConfiguration(
        query_parameters=builder.SessionsRequestBuilderGetQueryParameters(expand=["segments"])
    )

    async def read_all() -> tuple[int, list[Any]]:
        first = await builder.get(request_configuration=config)
        seen: list[Any] = []
        iterator = CountingPageIterator(first, client.request_adapter)
        await iterator.iterate(lambda session: seen.append(session) or True)
        return len(first.value), seen

    first_page, sessions = _run(read_all(), client)
    assert first_page == 60
    assert CountingPageIterator.fetched == 2, "150 sessions come in three pages: 60, 60 and 30"
    assert [s.id for s in sessions] == [s["id"] for s in record["sessions"]]
    assert_same(record["sessions"], [sdk_json(s) for s in sessions])


@pytest.mark.parametrize("flavour", ["v1.0", "beta"])
def test_sdk_lists_records_with_a_date_filter_reaching_back_90_days(
    flavour: str, base_url: str, make_token: TokenFactory, imported: dict[str, Any]
) -> None:
    from msgraph_core.tasks.page_iterator import PageIterator

    since = datetime(2026, 11, 20, tzinfo=UTC) - timedelta(days=90)
    expected = sorted(
        (
            d
            for d in imported["documents"]
            if d.get("@odata.type", "").endswith("callRecord") and datetime.fromisoformat(d["startDateTime"]) >= since
        ),
        key=lambda d: (d["startDateTime"], d["id"]),
    )
    client = (v1_client if flavour == "v1.0" else beta_client)(base_url, make_token())
    builder = client.communications.call_records
    config = RequestConfiguration(
        query_parameters=builder.CallRecordsRequestBuilderGetQueryParameters(
            filter=f"startDateTime ge {since.strftime('%Y-%m-%dT%H:%M:%SZ')}", top=None
        )
    )
    config.headers.add("Prefer", "odata.maxpagesize=7")

    async def read_all() -> list[Any]:
        first = await builder.get(request_configuration=config)
        seen: list[Any] = []
        await PageIterator(first, client.request_adapter).iterate(lambda r: seen.append(r) or True)
        return seen

    records = _run(read_all(), client)
    assert [r.id for r in records] == [d["id"] for d in expected]
    for source, received in zip(expected, records, strict=True):
        listed = {k: v for k, v in source.items() if k not in ("sessions", "participants_v2")}
        assert_same(listed, sdk_json(received))


@pytest.mark.parametrize("flavour", ["v1.0", "beta"])
def test_sdk_calls_get_pstn_calls_and_get_direct_routing_calls(
    flavour: str, base_url: str, make_token: TokenFactory, imported: dict[str, Any]
) -> None:
    client = (v1_client if flavour == "v1.0" else beta_client)(base_url, make_token())
    start = datetime(2026, 8, 23, tzinfo=UTC)
    end = datetime(2026, 11, 20, tzinfo=UTC)
    calls = client.communications.call_records
    builders = {
        "pstnCallLogRow": calls.microsoft_graph_call_records_get_pstn_calls_with_from_date_time_with_to_date_time(
            start, end
        ),
        "directRoutingLogRow": (
            calls.microsoft_graph_call_records_get_direct_routing_calls_with_from_date_time_with_to_date_time(
                start, end
            )
        ),
    }

    async def read_both() -> dict[str, Any]:
        return {kind: await builder.get() for kind, builder in builders.items()}

    responses = _run(read_both(), client)
    for kind, response in responses.items():
        expected = sorted(
            (
                d
                for d in imported["documents"]
                if d["@odata.type"].endswith(kind) and start <= datetime.fromisoformat(d["startDateTime"]) <= end
            ),
            key=lambda d: (d["startDateTime"], d["id"]),
        )
        assert expected, "the fixture must produce rows in range"
        assert [r.id for r in response.value] == [d["id"] for d in expected]
        for source, received in zip(expected, response.value, strict=True):
            assert_same(source, sdk_json(received))
