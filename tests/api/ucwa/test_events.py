"""The event channel (P-GET): batches, acknowledgement, resend, resync, replacement, JSON and XML."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from callscope.app import Services
from tests.conftest import TENANT
from tests.support.server import sqlite_write_lock
from tests.support.ucwa import NS, UcwaClient, assert_valid_xml

FAST = {"timeout": "1", "medium": "0", "low": "0"}


@pytest.fixture
def app(base_url: str, services: Services) -> tuple[UcwaClient, dict[str, Any]]:
    services.users.add(TENANT, "alice@example.com", "Alice", "pw")
    client = UcwaClient(base_url)
    application = client.create_application(client.sign_in("alice@example.com", "pw")).json()
    return client, application


def events(client: UcwaClient, href: str, **params: str) -> httpx.Response:
    return client.get(href, params={**FAST, **params})


def test_make_me_available_is_announced_on_the_event_channel(app: tuple[UcwaClient, dict[str, Any]]) -> None:
    client, application = app
    me = application["_embedded"]["me"]
    assert (
        client.post(
            me["_links"]["makeMeAvailable"]["href"],
            json={"SupportedModalities": ["Audio", "video"], "signInAs": "Online"},
        ).status_code
        == 204
    )
    batch = events(client, application["_links"]["events"]["href"]).json()
    assert batch["_links"]["self"]["href"].endswith("events?ack=1")
    assert batch["_links"]["next"]["href"].endswith("events?ack=2")
    senders = [(group["rel"], [(e["link"]["rel"], e["type"]) for e in group["events"]]) for group in batch["sender"]]
    assert senders == [("me", [("me", "updated")]), ("communication", [("communication", "updated")])]
    communication = batch["sender"][1]["events"][0]["_embedded"]["communication"]
    assert communication["supportedModalities"] == ["Audio", "Video"]
    assert "makeMeAvailable" not in batch["sender"][0]["events"][0]["_embedded"]["me"]["_links"]
    again = client.post(me["_links"]["makeMeAvailable"]["href"], json={"SupportedModalities": ["Audio"]})
    assert (again.status_code, again.json()["subcode"]) == (409, "AlreadyExists")
    refreshed = client.get(application["_links"]["self"]["href"]).json()
    assert "makeMeAvailable" not in refreshed["_embedded"]["me"]["_links"]


def test_an_idle_p_get_times_out_with_only_links(app: tuple[UcwaClient, dict[str, Any]]) -> None:
    client, application = app
    started = time.monotonic()
    batch = events(client, application["_links"]["events"]["href"]).json()
    assert time.monotonic() - started >= 0.9
    assert batch["sender"] == []
    assert batch["_links"]["next"]["href"].endswith("ack=2")


def test_a_lost_response_is_resent_and_out_of_range_acks_resync(app: tuple[UcwaClient, dict[str, Any]]) -> None:
    client, application = app
    client.post(application["_embedded"]["me"]["_links"]["makeMeAvailable"]["href"], json={})
    href = application["_links"]["events"]["href"]
    first = events(client, href).json()
    repeated = events(client, href).json()
    assert repeated == first
    following = events(client, first["_links"]["next"]["href"]).json()
    assert following["sender"] == []
    stale = events(client, href).json()
    assert stale["sender"] == []
    assert stale["_links"]["resync"]["href"].endswith("ack=3")
    assert "next" not in stale["_links"]


def test_events_wait_for_an_application_that_reconnects(app: tuple[UcwaClient, dict[str, Any]]) -> None:
    client, application = app
    href = application["_links"]["events"]["href"]
    first = events(client, href).json()
    assert first["sender"] == []
    client.post(application["_embedded"]["me"]["_links"]["makeMeAvailable"]["href"], json={})
    time.sleep(0.5)  # nobody is polling while the events happen
    later = events(client, first["_links"]["next"]["href"]).json()
    assert [g["rel"] for g in later["sender"]] == ["me", "communication"]


def test_a_second_p_get_replaces_the_parked_one(app: tuple[UcwaClient, dict[str, Any]]) -> None:
    client, application = app
    href = application["_links"]["events"]["href"]
    answers: list[httpx.Response] = []
    parked = threading.Thread(target=lambda: answers.append(events(client, href, timeout="5")))
    parked.start()
    time.sleep(0.5)
    replacement = events(client, href)
    parked.join(timeout=10)
    assert answers[0].status_code == 409
    assert answers[0].json()["subcode"] == "PGetReplaced"
    assert replacement.status_code == 200


def test_the_event_channel_in_xml(app: tuple[UcwaClient, dict[str, Any]]) -> None:
    client, application = app
    client.post(application["_embedded"]["me"]["_links"]["makeMeAvailable"]["href"], json={})
    response = client.get(application["_links"]["events"]["href"], params=FAST, headers={"Accept": "application/xml"})
    root = assert_valid_xml(response.content)
    assert root.tag == f"{{{NS['u']}}}events"
    updated = root.findall("u:sender/u:updated", NS)
    assert [u.get("rel") for u in updated] == ["me", "communication"]
    assert updated[1].find("u:resource/u:propertyList[@name='supportedModalities']", NS) is not None


@pytest.mark.parametrize(
    "query",
    [
        {"ack": "x"},
        {"timeout": "99999"},
        {"medium": "-1"},
        {"ack": "\u00b2"},  # a digit to str.isdigit that int refuses: once a 500
        {"ack": "9" * 5000},  # more digits than int parses: once a 500
        {"timeout": "\u0663\u0660"},  # Arabic-Indic 30
        {"priority": "\u00b9"},
    ],
)
def test_bad_event_channel_parameters_are_400(app: tuple[UcwaClient, dict[str, Any]], query: dict[str, str]) -> None:
    client, application = app
    response = client.get(application["_links"]["events"]["href"], params={**FAST, **query})
    assert response.status_code == 400
    assert response.json()["subcode"] == "ParameterValidationFailure"


def test_p_get_parameters_stick_until_changed(app: tuple[UcwaClient, dict[str, Any]]) -> None:
    client, application = app
    first = client.get(application["_links"]["events"]["href"], params=FAST).json()  # timeout 1 s from now on
    started = time.monotonic()
    second = client.get(first["_links"]["next"]["href"]).json()  # no parameters: still 1 s, not 180
    assert time.monotonic() - started < 5
    assert second["sender"] == []
    started = time.monotonic()
    client.get(second["_links"]["next"]["href"], params={"timeout": "2"})  # changed: 2 s, and it sticks
    third_wait = time.monotonic() - started
    assert 1.8 <= third_wait < 6


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PostgreSQL has no database-wide write lock
def test_a_p_get_waiting_for_the_write_lock_does_not_stall_the_server(
    app: tuple[UcwaClient, dict[str, Any]], database_url: str, base_url: str
) -> None:
    client, application = app
    client.post(application["_embedded"]["me"]["_links"]["makeMeAvailable"]["href"], json={})
    answers: list[httpx.Response] = []
    with sqlite_write_lock(database_url):  # a long write elsewhere (an import batch) holds SQLite's one write lock
        parked = threading.Thread(
            target=lambda: answers.append(events(client, application["_links"]["events"]["href"]))
        )
        parked.start()
        time.sleep(0.5)  # it has read its events and now waits for the lock to record that it served them
        started = time.monotonic()
        assert httpx.get(f"{base_url}/healthz", timeout=5).status_code == 200
        assert time.monotonic() - started < 1, "the event loop waited with the P-GET"
        assert answers == []
    parked.join(timeout=10)
    assert [g["rel"] for g in answers[0].json()["sender"]] == ["me", "communication"]
