"""`/subscriptions` for call records: the handshake, reading, renewing, deleting, and bad input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import INGEST, OTHER_TENANT, TokenFactory
from tests.support.openapi import component, response_schema, validate
from tests.support.server import serving
from tests.support.webhooks import Receiver


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    hooks = Receiver()
    with serving(hooks.app) as url:
        yield hooks, url


def _ahead(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def _body(hooks_url: str, **changes: Any) -> dict[str, Any]:
    return {
        "changeType": "created,updated",
        "notificationUrl": f"{hooks_url}/hooks/notify",
        "lifecycleNotificationUrl": f"{hooks_url}/hooks/lifecycle",
        "resource": "/communications/callRecords",
        "expirationDateTime": _ahead(4000),
        "clientState": "secret-Ω",
        **changes,
    }


@pytest.mark.parametrize("version", ["v1.0", "beta"])
def test_a_subscription_is_created_after_the_handshake_then_read_renewed_and_deleted(
    client: httpx.Client, receiver: tuple[Receiver, str], version: str
) -> None:
    _, hooks_url = receiver
    created = client.post(f"/{version}/subscriptions", json=_body(hooks_url))
    assert created.status_code == 201, created.text
    subscription = created.json()
    assert subscription["changeType"] == "created,updated"
    assert subscription["clientState"] == "secret-Ω"
    assert subscription["resource"] == "/communications/callRecords"
    href = f"/{version}/subscriptions/{subscription['id']}"
    assert client.get(href).json()["id"] == subscription["id"]
    listed = client.get(f"/{version}/subscriptions").json()
    assert [s["id"] for s in listed["value"]] == [subscription["id"]]
    for body in (subscription, client.get(href).json()):  # the official schemas of the version
        validate(version, component(version, "microsoft.graph.subscription"), body)
    validate(version, response_schema(version, "/subscriptions", 200), listed)
    validate(version, response_schema(version, "/subscriptions", 400), client.get("/v1.0/subscriptions/nope").json())

    renewed = client.patch(href, json={"expirationDateTime": _ahead(100)})
    assert renewed.status_code == 200
    assert renewed.json()["expirationDateTime"] < subscription["expirationDateTime"]
    assert client.patch(href, json={"notificationUrl": "https://elsewhere.example"}).status_code == 400
    assert client.delete(href).status_code == 204
    assert client.get(href).status_code == 404
    assert client.delete(href).status_code == 404


def test_a_short_expiry_is_raised_to_45_minutes_and_a_participant_filter_is_kept(
    client: httpx.Client, receiver: tuple[Receiver, str]
) -> None:
    _, hooks_url = receiver
    resource = "/communications/callRecords?$filter=participants/any(p:p/id eq 'b6065526-01c8-5594-8112-e2dd7c08d18f')"
    created = client.post("/v1.0/subscriptions", json=_body(hooks_url, expirationDateTime=_ahead(5), resource=resource))
    assert created.status_code == 201, created.text
    expires = datetime.fromisoformat(created.json()["expirationDateTime"].replace("0Z", "+00:00"))
    assert timedelta(minutes=44) < expires - datetime.now(UTC) < timedelta(minutes=46)
    assert created.json()["resource"] == resource


@pytest.mark.parametrize(
    ("changes", "target"),
    [
        ({"resource": "/communications/calls"}, "resource"),
        ({"resource": "/communications/callRecords?$filter=startDateTime gt 2020-01-01"}, "resource"),
        ({"changeType": "deleted"}, "changeType"),
        ({"changeType": None}, "changeType"),
        ({"expirationDateTime": _ahead(4300)}, "expirationDateTime"),
        ({"expirationDateTime": _ahead(-1)}, "expirationDateTime"),
        ({"expirationDateTime": "next tuesday"}, "expirationDateTime"),
        ({"clientState": "x" * 129}, "clientState"),
        ({"clientState": "a\u0000b"}, "clientState"),  # stored on SQLite, a 500 on PostgreSQL, before
        ({"notificationUrl": "ftp://example.com/hook"}, "notificationUrl"),
        ({"notificationUrl": "http://127.0.0.1:9/hooks/notify"}, "notificationUrl"),  # nothing listens there
    ],
)
def test_bad_subscriptions_are_refused_with_400_naming_the_property(
    client: httpx.Client, receiver: tuple[Receiver, str], changes: dict[str, Any], target: str
) -> None:
    _, hooks_url = receiver
    refused = client.post("/v1.0/subscriptions", json=_body(hooks_url, **changes))
    assert refused.status_code == 400, refused.text
    assert target in refused.json()["error"]["message"] or refused.json()["error"].get("target") == target
    assert client.get("/v1.0/subscriptions").json()["value"] == []


def test_a_body_nested_past_the_decoders_depth_is_a_400(client: httpx.Client) -> None:
    deep = b'{"resource": ' + b"[" * 5000 + b"]" * 5000 + b"}"  # msgspec raises RecursionError: once a 500
    refused = client.post("/v1.0/subscriptions", content=deep, headers={"Content-Type": "application/json"})
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["target"] == "body"


@pytest.mark.parametrize("handshake", ["wrong", "slow"])
def test_endpoints_that_do_not_echo_the_token_in_time_are_refused(
    client: httpx.Client, receiver: tuple[Receiver, str], handshake: str
) -> None:
    hooks, hooks_url = receiver
    hooks.handshake = handshake
    refused = client.post("/v1.0/subscriptions", json=_body(hooks_url), timeout=30)
    assert refused.status_code == 400
    assert "validation" in refused.json()["error"]["message"].lower()
    assert client.get("/v1.0/subscriptions").json()["value"] == []


def test_subscriptions_need_the_scope_and_belong_to_their_tenant(
    base_url: str, client: httpx.Client, make_token: TokenFactory, receiver: tuple[Receiver, str]
) -> None:
    _, hooks_url = receiver
    mine = client.post("/v1.0/subscriptions", json=_body(hooks_url)).json()["id"]
    other = {"Authorization": f"Bearer {make_token(tenant=OTHER_TENANT)}"}
    assert httpx.get(f"{base_url}/v1.0/subscriptions/{mine}", headers=other).status_code == 404
    assert httpx.delete(f"{base_url}/v1.0/subscriptions/{mine}", headers=other).status_code == 404
    assert httpx.get(f"{base_url}/v1.0/subscriptions", headers=other).json()["value"] == []
    ingest_only = {"Authorization": f"Bearer {make_token(scopes=(INGEST,))}"}
    denied = httpx.post(f"{base_url}/v1.0/subscriptions", json=_body(hooks_url), headers=ingest_only)
    assert denied.status_code == 403
    assert httpx.put(f"{base_url}/v1.0/subscriptions/{mine}", headers=client.headers).status_code == 405
