"""Discovery and sign-in as a UCWA client does them, following links only."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from callscope.app import Services
from tests.conftest import TENANT, TokenFactory
from tests.support.ucwa import DISCOVERY, UcwaClient, assert_hypermedia, assert_valid_xml, xml_links


@pytest.fixture
def alice(services: Services) -> str:
    services.users.add(TENANT, "alice@example.com", "Alice Ångström", "correct horse")
    return "alice@example.com"


@pytest.mark.parametrize("path", [DISCOVERY, DISCOVERY.lower(), DISCOVERY.upper().replace("SVC", "svc")])
def test_discovery_root_links_to_user_whatever_the_case(base_url: str, path: str) -> None:
    body = httpx.get(f"{base_url}{path}").json()
    assert_hypermedia(body)
    assert body["_links"]["user"]["href"].lower().endswith("/autodiscoverservice.svc/root/oauth/user")


def test_discovery_in_xml_validates(base_url: str) -> None:
    response = httpx.get(f"{base_url}{DISCOVERY}", headers={"Accept": "application/xml"})
    assert response.headers["content-type"].startswith("application/xml")
    assert "user" in xml_links(assert_valid_xml(response.content))


def test_password_sign_in_reaches_applications(base_url: str, alice: str) -> None:
    client = UcwaClient(base_url)
    applications = client.sign_in(alice, "correct horse")
    assert applications.endswith("/ucwa/oauth/v1/applications")


def test_the_user_resource_challenges_with_ms_rtc_oauth(base_url: str) -> None:
    user = httpx.get(f"{base_url}{DISCOVERY}").json()["_links"]["user"]["href"]
    response = httpx.get(user)
    assert response.status_code == 401
    assert re.fullmatch(
        r'MsRtcOAuth href="http://127\.0\.0\.1:\d+/webticket/oauthtoken",grant_type="password"',
        response.headers["www-authenticate"],
    )
    assert response.json()["code"] == "Unauthorized"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password", "username": "alice@example.com", "password": "wrong"}, "invalid_grant"),
        ({"grant_type": "password", "username": "nobody@example.com", "password": "x"}, "invalid_grant"),
        ({"grant_type": "urn:microsoft.rtc:windows"}, "unsupported_grant_type"),
        ({"grant_type": "password", "username": "alice@example.com"}, "invalid_request"),
        ({"grant_type": "password", "username": "al\x00ice@example.com", "password": "x"}, "invalid_grant"),  # was 500
    ],
)
def test_bad_sign_ins_get_oauth_errors(base_url: str, alice: str, form: dict[str, str], error: str) -> None:
    response = httpx.post(f"{base_url}/WebTicket/oauthtoken", data=form)
    assert response.status_code == 400
    assert response.json() == {"error": error}


def test_the_server_answers_others_while_a_password_is_checked(
    base_url: str, alice: str, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """argon2 takes about 0.2 s a password; on the event loop, it held up every live call meanwhile."""
    checking, released = threading.Event(), threading.Event()
    authenticate = services.users.authenticate

    def held(name: str, password: str) -> Any:
        checking.set()
        released.wait(10)
        return authenticate(name, password)

    monkeypatch.setattr(services.users, "authenticate", held)
    form = {"grant_type": "password", "username": alice, "password": "correct horse"}
    with ThreadPoolExecutor(1) as pool:
        signing_in = pool.submit(httpx.post, f"{base_url}/WebTicket/oauthtoken", data=form, timeout=30)
        assert checking.wait(10)
        try:
            assert httpx.get(f"{base_url}/healthz", timeout=5).status_code == 200  # while the check is held
        finally:
            released.set()
        assert signing_in.result().status_code == 200


def test_a_callscope_token_works_directly(base_url: str, make_token: TokenFactory) -> None:
    client = UcwaClient(base_url)
    client.token = make_token(scopes=("Conversations.Initiate",))
    user = client.get(client.get(DISCOVERY).json()["_links"]["user"]["href"])
    assert user.status_code == 200
    assert_hypermedia(user.json())
