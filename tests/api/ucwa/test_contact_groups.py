"""Contact groups (`people/myGroups`): create up to 64, names unique, 409 TooManyGroups past the limit."""

from __future__ import annotations

import time

import httpx

from callscope.app import Services
from callscope.auth.tokens import issue_token, load_or_create_key
from callscope.config import Settings
from callscope.domain.contact_groups import MAX_GROUPS
from tests.conftest import OTHER_TENANT, TENANT
from tests.support.ucwa import UcwaClient, assert_valid_xml, xml_links

XML = {"Accept": "application/xml"}


def _my_groups(base_url: str, services: Services, user: str = "alice") -> tuple[UcwaClient, str]:
    services.users.add(TENANT, f"{user}@example.com", user.title(), "pw")
    client = UcwaClient(base_url)
    app = client.create_application(client.sign_in(f"{user}@example.com", "pw")).json()
    people = client.get(app["_embedded"]["people"]["_links"]["self"]["href"]).json()
    return client, people["_links"]["myGroups"]["href"]


def test_groups_are_created_listed_read_and_removed(base_url: str, services: Services) -> None:
    client, href = _my_groups(base_url, services)
    listed = client.get(href).json()
    assert "group" not in listed["_links"]
    default = client.get(listed["_links"]["defaultGroup"]["href"]).json()
    assert (default["rel"], default["name"]) == ("defaultGroup", "Other Contacts")

    created = client.post(href, json={"Name": "Família 👪"})
    assert created.status_code == 201, created.text
    assert created.headers["location"] == created.json()["_links"]["self"]["href"]
    assert (created.json()["rel"], created.json()["name"]) == ("group", "Família 👪")
    in_xml = client.post(
        href,
        content=b'<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">'
        b'<property name="name">Work</property></input>',
        headers={**XML, "Content-Type": "application/xml"},
    )
    assert in_xml.status_code == 201
    assert assert_valid_xml(in_xml.content).get("rel") == "group"

    listed = client.get(href).json()
    assert [g["href"] for g in listed["_links"]["group"]] == [created.headers["location"], in_xml.headers["location"]]
    as_xml = client.get(href, headers=XML)
    assert "defaultGroup" in xml_links(assert_valid_xml(as_xml.content))

    assert client.delete(created.headers["location"]).status_code == 204
    assert client.get(created.headers["location"]).status_code == 404
    assert client.delete(listed["_links"]["defaultGroup"]["href"]).status_code == 403
    assert client.http.put(client.url(href), headers=client._auth({})).status_code == 405


def test_names_are_checked_and_unique(base_url: str, services: Services) -> None:
    client, href = _my_groups(base_url, services)
    assert client.post(href, json={"name": "Team"}).status_code == 201
    duplicate = client.post(href, json={"name": "  team "})
    assert (duplicate.status_code, duplicate.json()["subcode"]) == (409, "AlreadyExists")
    for bad in ({}, {"name": ""}, {"name": "x" * 257}, {"name": 7}):
        answer = client.post(href, json=bad)
        assert (answer.status_code, answer.json()["parameters"][0]["name"]) == (400, "name"), bad
    assert len(client.get(href).json()["_links"]["group"]) == 1


def test_a_contact_list_holds_at_most_64_groups(base_url: str, services: Services) -> None:
    client, href = _my_groups(base_url, services)
    for index in range(MAX_GROUPS - 1):  # the default group is the 64th
        assert client.post(href, json={"name": f"group {index}"}).status_code == 201
    full = client.post(href, json={"name": "one too many"})
    assert (full.status_code, full.json()["code"], full.json()["subcode"]) == (409, "Conflict", "TooManyGroups")
    in_xml = client.post(href, json={"name": "one too many"}, headers=XML)
    root = assert_valid_xml(in_xml.content)
    assert (in_xml.status_code, root.findtext("{*}subcode")) == (409, "TooManyGroups")

    first = client.get(href).json()["_links"]["group"][0]["href"]
    assert client.delete(first).status_code == 204
    again = client.post(href, json={"name": "fits again"})
    assert again.status_code == 201 and again.headers["location"] == first  # the freed slot is reused


def test_groups_need_contacts_scope_and_stay_with_their_user(
    base_url: str, services: Services, settings: Settings
) -> None:
    client, href = _my_groups(base_url, services)
    mine = client.post(href, json={"name": "Private"}).headers["location"]

    bob, bobs_href = _my_groups(base_url, services, "bob")
    assert bob.get(href).status_code == 404  # alice's application
    assert bob.get(mine).status_code == 404
    assert "group" not in bob.get(bobs_href).json()["_links"]

    key = load_or_create_key(settings.data_dir)
    for tenant, scopes, status in (
        (TENANT, ["Conversations.Initiate"], 403),
        (OTHER_TENANT, ["Contacts.ReadWrite"], 404),
    ):
        token = issue_token(
            key, tenant_id=tenant, scopes=scopes, subject="alice@example.com", expires_in=60, now=time.time()
        )
        answer = httpx.post(
            client.url(href),
            json={"name": "x"},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        assert answer.status_code == status, answer.text
