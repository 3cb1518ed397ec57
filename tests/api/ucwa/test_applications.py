"""Applications: created per device, embedded resources, JSON and XML, errors in UCWA's shape."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from callscope.app import Services
from callscope.services.applications import Applications
from tests.conftest import OTHER_TENANT, TENANT
from tests.support.ucwa import NS, UcwaClient, assert_hypermedia, assert_valid_xml


@pytest.fixture
def users(services: Services) -> None:
    services.users.add(TENANT, "alice@example.com", "Alice", "pw-alice")
    services.users.add(TENANT, "bob@example.com", "Bob", "pw-bob")
    services.users.add(OTHER_TENANT, "carol@other.example", "Carol", "pw-carol")


def signed_in(base_url: str, user: str, password: str) -> tuple[UcwaClient, str]:
    client = UcwaClient(base_url)
    return client, client.sign_in(user, password)


def test_creating_an_application_embeds_me_people_meetings_and_communication(base_url: str, users: None) -> None:
    client, applications = signed_in(base_url, "alice@example.com", "pw-alice")
    response = client.create_application(applications)
    assert response.status_code == 201
    body: dict[str, Any] = response.json()
    assert_hypermedia(body)
    assert response.headers["location"] == body["_links"]["self"]["href"]
    assert body["rel"] == "application"
    assert (body["userAgent"], body["endpointId"], body["culture"]) == ("callscope-tests/1.0", "device-1", "en-US")
    assert set(body["_embedded"]) == {"me", "people", "onlineMeetings", "communication"}
    assert body["_embedded"]["me"]["uri"] == "sip:alice@example.com"
    assert body["_embedded"]["me"]["name"] == "Alice"
    again = client.get(body["_links"]["self"]["href"])
    assert again.json() == body
    me = client.get(body["_embedded"]["me"]["_links"]["self"]["href"]).json()
    assert me == body["_embedded"]["me"]


def test_one_application_per_device_and_several_devices_per_user(base_url: str, users: None) -> None:
    client, applications = signed_in(base_url, "alice@example.com", "pw-alice")
    first = client.create_application(applications, "laptop").json()
    same = client.create_application(applications, "laptop")
    assert same.status_code == 200
    assert same.json()["_links"]["self"] == first["_links"]["self"]
    phone = client.create_application(applications, "phone").json()
    assert phone["_links"]["self"] != first["_links"]["self"]


def test_applications_in_xml_validate_against_the_schema(base_url: str, users: None) -> None:
    client, applications = signed_in(base_url, "alice@example.com", "pw-alice")
    body = (
        b'<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa"><property name="UserAgent">x</property>'
        b'<property name="EndpointId">xml-device</property><property name="Culture">de-DE</property></input>'
    )
    response = client.post(
        applications, content=body, headers={"Content-Type": "application/xml", "Accept": "application/xml"}
    )
    assert response.status_code == 201, response.text
    root = assert_valid_xml(response.content)
    assert root.get("rel") == "application"
    assert root.find("u:property[@name='culture']", NS).text == "de-DE"
    assert {r.get("rel") for r in root.findall("u:resource", NS)} == {"me", "people", "onlineMeetings", "communication"}


@pytest.mark.parametrize("accept", ["application/json", "application/xml"])
def test_missing_inputs_are_a_parameter_validation_failure(base_url: str, users: None, accept: str) -> None:
    client, applications = signed_in(base_url, "alice@example.com", "pw-alice")
    response = client.post(applications, json={"UserAgent": "x" * 101}, headers={"Accept": accept})
    assert response.status_code == 400
    if accept == "application/json":
        error = response.json()
        assert (error["code"], error["subcode"]) == ("BadRequest", "ParameterValidationFailure")
        assert {p["name"] for p in error["parameters"]} == {"userAgent", "endpointId", "culture"}
    else:
        root = assert_valid_xml(response.content)
        assert root.find("u:subcode", NS).text == "ParameterValidationFailure"


def test_other_users_and_tenants_never_see_an_application(base_url: str, users: None) -> None:
    alice, applications = signed_in(base_url, "alice@example.com", "pw-alice")
    href = alice.create_application(applications).json()["_links"]["self"]["href"]
    for user, password in (("bob@example.com", "pw-bob"), ("carol@other.example", "pw-carol")):
        other, _ = signed_in(base_url, user, password)
        response = other.get(href)
        assert response.status_code == 404
        assert response.json()["subcode"] == "ApplicationNotFound"
        assert other.delete(href).status_code == 404
    assert alice.get(href).status_code == 200


def test_deleting_an_application_ends_it(base_url: str, users: None) -> None:
    client, applications = signed_in(base_url, "alice@example.com", "pw-alice")
    href = client.create_application(applications).json()["_links"]["self"]["href"]
    assert client.delete(href).status_code == 204
    gone = client.get(href)
    assert (gone.status_code, gone.json()["subcode"]) == (404, "ApplicationNotFound")


def test_an_idle_application_expires_then_is_not_found(services: Services) -> None:
    now = [1_000_000_000_000_000]
    applications = Applications(services.database, clock=lambda: now[0])
    created, _ = applications.create(
        TENANT, "sip:alice@example.com", {"userAgent": "x", "endpointId": "e", "culture": "en-US"}
    )
    now[0] += 4 * 60 * 1_000_000
    assert applications.get(TENANT, "sip:alice@example.com", created.id) == created
    now[0] += 6 * 60 * 1_000_000
    from callscope.errors import Gone, NotFound

    with pytest.raises(Gone) as gone:
        applications.get(TENANT, "sip:alice@example.com", created.id)
    assert gone.value.subcode == "InactiveApplicationExpired"
    with pytest.raises(NotFound):
        applications.get(TENANT, "sip:alice@example.com", created.id)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "subcode"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE input [<!ENTITY x "y">]><input xmlns="http://schemas.microsoft.com/rtc/'
            b'2012/03/ucwa"><property name="UserAgent">&x;</property></input>',
            "application/xml",
            400,
            "DeserializationFailure",
        ),
        (b"{not json", "application/json", 400, "DeserializationFailure"),
        (b"UserAgent=x", "text/plain", 415, None),
    ],
)
def test_bad_bodies_are_rejected_in_ucwa_form(
    base_url: str, users: None, body: bytes, content_type: str, status: int, subcode: str | None
) -> None:
    client, applications = signed_in(base_url, "alice@example.com", "pw-alice")
    response = client.post(applications, content=body, headers={"Content-Type": content_type})
    assert response.status_code == status, response.text
    assert response.json().get("subcode") == subcode


def test_nul_characters_are_refused_by_name_and_never_reach_the_store(
    base_url: str, users: None, database_url: str
) -> None:
    """PostgreSQL's text holds no NUL: an input or an id carrying one was a 500 there."""
    client, applications = signed_in(base_url, "alice@example.com", "pw-alice")
    body = {"UserAgent": "ua", "EndpointId": "device\u0000", "Culture": "en-US"}
    response = client.post(applications, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["parameters"] == [{"name": "endpointid", "reason": "Invalid"}]
    deep = b'{"UserAgent": "ua", "EndpointId": "d", "Culture": "en-US", "x": ' + b'{"a": ' * 900 + b'"\\u0000"'
    deep += b"}" * 901  # a NUL at the bottom of 900 levels: looked for without recursion (once a 500)
    response = client.post(applications, content=deep, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["parameters"] == [{"name": "x", "reason": "Invalid"}]
    created = client.create_application(applications).json()
    looked_up = client.get(created["_links"]["self"]["href"] + "%00")
    expected = (400, "BadRequest") if database_url.startswith("postgresql") else (404, "NotFound")
    assert (looked_up.status_code, looked_up.json()["code"]) == expected, looked_up.text


def test_a_body_nested_past_the_decoders_depth_is_a_deserialization_failure(base_url: str, users: None) -> None:
    client, applications = signed_in(base_url, "alice@example.com", "pw-alice")
    deep = b'{"UserAgent": ' + b"[" * 5000 + b"]" * 5000 + b"}"  # msgspec raises RecursionError: once a 500
    response = client.post(applications, content=deep, headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()["subcode"]) == (400, "DeserializationFailure")


def test_unacceptable_accept_is_406_and_wrong_methods_405(base_url: str, users: None) -> None:
    client, applications = signed_in(base_url, "alice@example.com", "pw-alice")
    assert client.get(applications, headers={"Accept": "text/html"}).status_code == 406
    assert client.get(applications).status_code == 405
    assert httpx.post(client.url(applications), json={}).status_code == 401


def test_unknown_ucwa_paths_answer_in_ucwa_form(base_url: str, users: None) -> None:
    client, applications = signed_in(base_url, "alice@example.com", "pw-alice")
    for path in (f"{applications}/nope/deeper/still", "/ucwa/oauth/v2/whatever"):
        response = client.get(path)
        assert (response.status_code, response.json()["subcode"]) == (404, "ResourceNotFound")
        xml = client.get(path, headers={"Accept": "application/xml"})
        assert xml.status_code == 404
    assert httpx.get(client.url("/ucwa/oauth/v1/anything")).status_code == 401
