"""Change notifications reach their webhook: within a second of hang-up, retried, given up, never lost."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from callscope.app import Services, create_app, create_services
from callscope.auth.tokens import issue_token, load_or_create_key
from callscope.config import Settings
from callscope.domain.record_assembly import user_id
from tests.conftest import READ, TENANT, TokenFactory
from tests.support.documents import demo_records, jsonl
from tests.support.server import free_port, serving, start_process
from tests.support.ucwa import Party, connect
from tests.support.webhooks import Receiver


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    hooks = Receiver()
    with serving(hooks.app) as url:
        yield hooks, url


def _subscribe(base_url: str, token: str, hooks_url: str, **changes: Any) -> dict[str, Any]:
    body = {
        "changeType": "created,updated",
        "notificationUrl": f"{hooks_url}/hooks/notify",
        "lifecycleNotificationUrl": f"{hooks_url}/hooks/lifecycle",
        "resource": "/communications/callRecords",
        "expirationDateTime": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        "clientState": "s3cret",
        **changes,
    }
    created = httpx.post(f"{base_url}/v1.0/subscriptions", json=body, headers={"Authorization": f"Bearer {token}"})
    assert created.status_code == 201, created.text
    return dict(created.json())


def _call(base_url: str, hang_up: bool = True) -> tuple[Party, Party, dict[str, Any], float]:
    """Alice calls Bob, Bob answers, Alice hangs up; the moment the hang-up returned."""
    alice = Party(base_url, "alice@example.com", "pw", "laptop")
    bob = Party(base_url, "bob@example.com", "pw", "desk")
    _, session = connect(alice, bob, "sip:bob@example.com")
    assert bob.client.post(session["_links"]["audioVideo"]["href"] + "/stopAudioVideo").status_code == 204
    return alice, bob, session, time.monotonic()


@pytest.fixture
def users(services: Services) -> None:
    services.users.add(TENANT, "alice@example.com", "Alice", "pw")
    services.users.add(TENANT, "bob@example.com", "Bob", "pw")


@pytest.mark.usefixtures("users")
def test_a_hang_up_is_notified_within_a_second_and_late_feedback_as_an_update(
    base_url: str, make_token: TokenFactory, receiver: tuple[Receiver, str]
) -> None:
    hooks, hooks_url = receiver
    token = make_token()
    subscription = _subscribe(base_url, token, hooks_url)
    only_bob = _subscribe(
        base_url,
        token,
        hooks_url,
        changeType="created",
        resource=f"/communications/callRecords?$filter=participants/any(p:p/id eq '{user_id('sip:bob@example.com')}')",
        notificationUrl=f"{hooks_url}/hooks/bob",
    )
    nobody = f"/communications/callRecords?$filter=participants/any(p:p/id eq '{user_id('sip:carol@example.com')}')"
    _subscribe(base_url, token, hooks_url, resource=nobody, notificationUrl=f"{hooks_url}/hooks/carol")
    _, bob, session, hung_up = _call(base_url)

    (created,) = hooks.wait_for(1, timeout=5)
    assert hooks.arrival() - hung_up <= 1.0
    record_id = created["resourceData"]["id"]
    assert created == {
        "subscriptionId": subscription["id"],
        "clientState": "s3cret",
        "changeType": "created",
        "resource": f"communications/callRecords/{record_id}",
        "subscriptionExpirationDateTime": subscription["expirationDateTime"],
        "resourceData": {
            "@odata.type": "#Microsoft.Graph.callrecord",
            "@odata.id": f"communications/callRecords/{record_id}",
            "id": record_id,
        },
        "tenantId": TENANT,
    }
    assert hooks.wait_for(1, "bob")[0]["subscriptionId"] == only_bob["id"]
    record = httpx.get(
        f"{base_url}/v1.0/communications/callRecords/{record_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert record.status_code == 200 and record.json()["version"] == 1

    rated = bob.client.post(session["_links"]["publishCallQualityFeedback"]["href"], json={"rating": "excellent"})
    assert rated.status_code == 204
    updated = hooks.wait_for(2, timeout=5)[1]
    assert (updated["changeType"], updated["resourceData"]["id"]) == ("updated", record_id)
    time.sleep(0.5)
    assert len(hooks.items("bob")) == 1  # created only
    assert hooks.items("carol") == []  # not a participant


def test_imported_records_are_notified_too(
    client: httpx.Client, base_url: str, make_token: TokenFactory, receiver: tuple[Receiver, str]
) -> None:
    hooks, hooks_url = receiver
    _subscribe(base_url, make_token(), hooks_url, changeType="created")
    documents = demo_records(3)
    records = [d for d in documents if "sessions" in d]
    ingested = client.post(
        "/callscope/ingest", content=jsonl(documents), headers={"Content-Type": "application/x-ndjson"}
    )
    assert ingested.status_code == 200, ingested.text
    received = hooks.wait_for(len(records))
    assert sorted(n["resourceData"]["id"] for n in received) == sorted(d["id"] for d in records)


@pytest.fixture
def impatient(settings: Settings) -> Settings:
    """Retries every 0.1 s and gives up after 1.5 s (four hours in production)."""
    return replace(settings, notification_retry_seconds=0.1, notification_give_up_seconds=1.5)


@pytest.mark.usefixtures("users")
def test_failed_deliveries_are_retried_until_they_succeed(
    impatient: Settings, services: Services, make_token: TokenFactory, receiver: tuple[Receiver, str]
) -> None:
    hooks, hooks_url = receiver
    with serving(create_app(impatient, create_services(impatient))) as base_url:
        _subscribe(base_url, make_token(), hooks_url)
        hooks.failing = True
        _call(base_url)
        time.sleep(0.5)
        assert hooks.items() == []
        hooks.failing = False
        assert hooks.wait_for(1, timeout=5)[0]["changeType"] == "created"


@pytest.mark.usefixtures("users")
def test_an_endpoint_that_keeps_failing_loses_its_subscription_with_a_lifecycle_notification(
    impatient: Settings, services: Services, make_token: TokenFactory, receiver: tuple[Receiver, str]
) -> None:
    hooks, hooks_url = receiver
    token = make_token()
    with serving(create_app(impatient, create_services(impatient))) as base_url:
        subscription = _subscribe(base_url, token, hooks_url, notificationUrl=f"{hooks_url}/hooks/broken")
        hooks.failing = True
        _call(base_url)
        time.sleep(2.5)
        hooks.failing = False
        (removed,) = hooks.wait_for(1, "lifecycle", timeout=5)
        assert (removed["lifecycleEvent"], removed["subscriptionId"]) == ("subscriptionRemoved", subscription["id"])
        gone = httpx.get(
            f"{base_url}/v1.0/subscriptions/{subscription['id']}", headers={"Authorization": f"Bearer {token}"}
        )
        assert gone.status_code == 404
        assert hooks.items("broken") == []


@pytest.mark.usefixtures("users")
def test_expired_subscriptions_get_nothing(
    base_url: str, services: Services, make_token: TokenFactory, receiver: tuple[Receiver, str]
) -> None:
    hooks, hooks_url = receiver
    _subscribe(base_url, make_token(), hooks_url)
    with services.engine.begin() as conn:  # as if its 45 minutes had passed
        conn.execute(text("UPDATE subscriptions SET expires_us = 1"))
    _call(base_url)
    time.sleep(1.0)
    assert hooks.items() == []


def test_a_server_killed_between_hang_up_and_delivery_delivers_after_restart(
    tmp_path: Path, receiver: tuple[Receiver, str]
) -> None:
    hooks, hooks_url = receiver
    data_dir = tmp_path / "data"
    services = create_services(Settings(data_dir=data_dir))
    services.users.add(TENANT, "alice@example.com", "Alice", "pw")
    services.users.add(TENANT, "bob@example.com", "Bob", "pw")
    services.engine.dispose()
    token = issue_token(
        load_or_create_key(data_dir), tenant_id=TENANT, scopes=[READ], subject="t", expires_in=600, now=time.time()
    )
    port = free_port()
    server = start_process(data_dir, port)
    try:
        base_url = f"http://127.0.0.1:{port}"
        _subscribe(base_url, token, hooks_url)
        hooks.failing = True  # the webhook is down when the call ends
        _call(base_url)
        record = httpx.get(f"{base_url}/v1.0/communications/callRecords", headers={"Authorization": f"Bearer {token}"})
        record_id = record.json()["value"][0]["id"]
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        assert hooks.items() == []
        hooks.failing = False
        server = start_process(data_dir, port)
        delivered = hooks.wait_for(1, timeout=10)
        assert {n["resourceData"]["id"] for n in delivered} == {record_id}
        again = httpx.get(
            f"{base_url}/v1.0/communications/callRecords/{record_id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert again.status_code == 200
    finally:
        server.kill()
        server.wait(timeout=10)
