"""PUT with If-Match (428/412) on `communication`, and 429 when a user sends too many requests."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from callscope.app import Services, create_app
from callscope.config import Settings
from tests.conftest import TENANT, TokenFactory
from tests.support.server import serving
from tests.support.ucwa import UcwaClient


@pytest.fixture
def communication(base_url: str, services: Services) -> tuple[UcwaClient, str]:
    services.users.add(TENANT, "alice@example.com", "Alice", "pw")
    client = UcwaClient(base_url)
    app = client.create_application(client.sign_in("alice@example.com", "pw")).json()
    client.post(app["_embedded"]["me"]["_links"]["makeMeAvailable"]["href"], json={"SupportedModalities": ["Audio"]})
    return client, app["_embedded"]["communication"]["_links"]["self"]["href"]


def test_put_needs_if_match_a_current_etag_and_the_whole_resource(communication: tuple[UcwaClient, str]) -> None:
    client, href = communication
    current = client.get(href)
    body: dict[str, Any] = current.json()
    etag = current.headers["etag"]
    assert body["etag"] == etag.strip('"')
    token = next(k for k, v in body.items() if v == "please pass this in a PUT request")
    changed = {**{k: v for k, v in body.items() if k != "_links"}, "supportedModalities": ["Audio", "Video"]}

    missing = client.http.put(client.url(href), json=changed, headers=client._auth({}))
    assert (missing.status_code, missing.json()["code"]) == (428, "PreconditionRequired")
    stale = client.http.put(client.url(href), json=changed, headers=client._auth({"If-Match": '"0"'}))
    assert (stale.status_code, stale.json()["code"]) == (412, "PreconditionFailed")
    partial = client.http.put(
        client.url(href), json={"supportedModalities": ["Video"]}, headers=client._auth({"If-Match": etag})
    )
    assert (partial.status_code, partial.json()["parameters"][0]["name"]) == (400, token)

    done = client.http.put(client.url(href), json=changed, headers=client._auth({"If-Match": etag}))
    assert done.status_code == 200, done.text
    assert done.json()["supportedModalities"] == ["Audio", "Video"]
    assert done.headers["etag"] != etag
    again = client.http.put(client.url(href), json=changed, headers=client._auth({"If-Match": etag}))
    assert again.status_code == 412


def test_too_many_requests_are_429_with_retry_after(
    tmp_path: Path, settings: Settings, services: Services, make_token: TokenFactory
) -> None:
    tight = Settings(
        data_dir=settings.data_dir, database_url=settings.database_url, ucwa_requests_per_second=1, ucwa_request_burst=3
    )
    headers = {"Authorization": f"Bearer {make_token(scopes=('Conversations.Initiate',))}"}
    with serving(create_app(tight, services)) as url:
        user = f"{url}/Autodiscover/AutodiscoverService.svc/root/oauth/user"
        statuses = [httpx.get(user, headers=headers).status_code for _ in range(6)]
        assert statuses[:3] == [200, 200, 200]
        assert 429 in statuses[3:]
        limited = httpx.get(user, headers=headers)
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "1"
        assert limited.json()["code"] == "TooManyRequests"


def test_a_client_gone_before_its_body_arrived_changes_nothing_and_is_no_error(
    base_url: str, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    services.users.add(TENANT, "bob@example.com", "Bob", "pw")
    client = UcwaClient(base_url)
    app = client.create_application(client.sign_in("bob@example.com", "pw")).json()
    available = app["_embedded"]["me"]["_links"]["makeMeAvailable"]["href"]
    url = httpx.URL(client.url(available))
    head = (
        f"POST {url.raw_path.decode()} HTTP/1.1\r\nHost: {url.host}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {client.token}\r\nContent-Length: 100\r\n\r\n"
    )
    with socket.create_connection((url.host, url.port)) as sock:
        sock.sendall(head.encode() + b'{"SupportedModalities": [')  # and hang up before the rest
    time.sleep(0.5)
    me = client.get(app["_embedded"]["me"]["_links"]["self"]["href"]).json()
    assert "makeMeAvailable" in me["_links"]  # the operation never ran
    assert not [r for r in caplog.records if "unexpected error" in r.getMessage()]
