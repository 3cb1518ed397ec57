"""A small UCWA client for tests: starts at the discovery URL and follows links only."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urljoin

import httpx
from lxml import etree

NS = {"u": "http://schemas.microsoft.com/rtc/2012/03/ucwa"}
DISCOVERY = "/Autodiscover/AutodiscoverService.svc/root"


@cache
def xml_schema() -> etree.XMLSchema:
    """callscope's XML Schema for UCWA representations."""
    text = resources.files("callscope.schemas").joinpath("ucwa.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(text))


def assert_valid_xml(body: bytes) -> etree._Element:
    """Parse an XML response and check it against the schema."""
    root = etree.fromstring(body)
    schema = xml_schema()
    assert schema.validate(root), schema.error_log
    return root


def xml_links(root: etree._Element) -> dict[str, str]:
    """The links of an XML resource by rel."""
    return {link.get("rel"): link.get("href") for link in root.findall("u:link", NS)}


def assert_hypermedia(body: dict[str, Any]) -> None:
    """Every JSON resource has `rel` and `_links.self`, recursively through `_embedded`."""
    assert isinstance(body.get("rel"), str), body
    assert "href" in body["_links"]["self"], body
    for item in body.get("_embedded", {}).values():
        for embedded in item if isinstance(item, list) else [item]:
            assert_hypermedia(embedded)


def check_shape(response: httpx.Response) -> httpx.Response:
    """Every UCWA answer a test sees: XML validates against the schema; JSON resources have the hypermedia shape."""
    content_type = response.headers.get("content-type", "")
    if not response.content:
        return response
    if "xml" in content_type:
        assert_valid_xml(response.content)
    elif "json" in content_type:
        body = response.json()
        if isinstance(body, dict) and "rel" in body:
            assert_hypermedia(body)
        elif isinstance(body, dict) and "sender" in body:
            assert "self" in body["_links"]
            for group in body["sender"]:
                for event in group["events"]:
                    for embedded in event.get("_embedded", {}).values():
                        assert_hypermedia(embedded)
        elif isinstance(body, dict) and response.status_code >= 400:
            assert isinstance(body.get("code"), str) and isinstance(body.get("message"), str), body
    return response


class UcwaClient:
    """Signs in like a UCWA client: discovery → challenge → token → user → applications."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(timeout=30, headers={"Accept": "application/json"})
        self.token: str | None = None

    def url(self, href: str) -> str:
        return urljoin(self.base_url + "/", href)

    def get(self, href: str, **kwargs: Any) -> httpx.Response:
        url = httpx.URL(self.url(href))
        extra = kwargs.pop("params", None)
        if extra:  # add to the server's own query parameters, as UCWA clients must
            url = url.copy_merge_params(extra)
        return check_shape(self.http.get(url, headers=self._auth(kwargs.pop("headers", {})), **kwargs))

    def post(self, href: str, **kwargs: Any) -> httpx.Response:
        return check_shape(self.http.post(self.url(href), headers=self._auth(kwargs.pop("headers", {})), **kwargs))

    def delete(self, href: str, **kwargs: Any) -> httpx.Response:
        return check_shape(self.http.delete(self.url(href), headers=self._auth(kwargs.pop("headers", {})), **kwargs))

    def _auth(self, headers: dict[str, str]) -> dict[str, str]:
        return {**({"Authorization": f"Bearer {self.token}"} if self.token else {}), **headers}

    def sign_in(self, username: str, password: str) -> str:
        """Follow discovery to the user resource, answer its challenge, return the applications href."""
        user_href = self.get(DISCOVERY).json()["_links"]["user"]["href"]
        challenge = self.get(user_href)
        assert challenge.status_code == 401
        match = re.search(r'MsRtcOAuth href="([^"]+)",grant_type="([^"]+)"', challenge.headers["www-authenticate"])
        assert match is not None and "password" in match.group(2).split(",")
        token = self.http.post(
            match.group(1), data={"grant_type": "password", "username": username, "password": password}
        )
        assert token.status_code == 200, token.text
        self.token = token.json()["access_token"]
        return str(self.get(user_href).json()["_links"]["applications"]["href"])

    def create_application(
        self, applications_href: str, endpoint_id: str = "device-1", user_agent: str = "callscope-tests/1.0"
    ) -> httpx.Response:
        return self.post(
            applications_href, json={"UserAgent": user_agent, "EndpointId": endpoint_id, "Culture": "en-US"}
        )


def sdp_offer(video: bool = False, direction: str = "sendrecv") -> str:
    """A small but complete SDP (audio, optionally video) as a WebRTC client would send it."""
    lines = [
        "v=0",
        "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0" + (" 1" if video else ""),
        "m=audio 9 UDP/TLS/RTP/SAVPF 111",
        "c=IN IP4 0.0.0.0",
        "a=mid:0",
        f"a={direction}",
        "a=rtpmap:111 opus/48000/2",
    ]
    if video:
        lines += [
            "m=video 9 UDP/TLS/RTP/SAVPF 96",
            "c=IN IP4 0.0.0.0",
            "a=mid:1",
            f"a={direction}",
            "a=rtpmap:96 VP8/90000",
        ]
    return "\r\n".join(lines) + "\r\n"


class Party:
    """One signed-in application that is available and reads its own event channel."""

    def __init__(
        self,
        base_url: str,
        user: str,
        password: str,
        device: str,
        accept: str = "application/json",
        user_agent: str = "callscope-tests/1.0",
    ) -> None:
        self.client = UcwaClient(base_url)
        self.client.http.headers["Accept"] = accept
        applications = self.client.sign_in(user, password)
        self.client.http.headers["Accept"] = "application/json"
        self.application = self.client.create_application(applications, device, user_agent).json()
        self.next_events = self.application["_links"]["events"]["href"]
        self.backlog: list[dict[str, Any]] = []
        me = self.application["_embedded"]["me"]["_links"]["makeMeAvailable"]["href"]
        assert self.client.post(me, json={"SupportedModalities": ["Audio", "Video"]}).status_code == 204
        self.events(timeout="1")  # the makeMeAvailable announcements

    def events(self, timeout: str = "2") -> list[dict[str, Any]]:
        """The next batch of events, flattened; follows `next` as a client must."""
        batch = self.client.get(self.next_events, params={"timeout": timeout, "medium": "0", "low": "0"}).json()
        self.next_events = batch["_links"]["next"]["href"]
        return [event for group in batch["sender"] for event in group["events"]]

    def wait_for(self, rel: str, type_: str, timeout: float = 10) -> dict[str, Any]:
        """Read events until one about `rel` of type `type_` arrives."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            for index, event in enumerate(self.backlog):
                if event["link"]["rel"] == rel and event["type"] == type_:
                    return self.backlog.pop(index)
            if time.monotonic() > deadline:
                raise AssertionError(f"no {type_} event for {rel}; seen {self.backlog}")
            self.backlog.extend(self.events(timeout="1"))

    @property
    def start_audio_video(self) -> str:
        return str(self.application["_embedded"]["communication"]["_links"]["startAudioVideo"]["href"])


def connect(caller: Party, callee: Party, callee_uri: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The caller calls, the callee answers: both sides' audioVideoSession once each has it."""
    headers = {"Content-Type": "application/sdp"}
    caller.client.post(caller.start_audio_video, content=sdp_offer(), params={"to": callee_uri}, headers=headers)
    incoming = callee.wait_for("audioVideoInvitation", "started")["_embedded"]["audioVideoInvitation"]
    callee.client.post(incoming["_links"]["acceptWithAnswer"]["href"], content=sdp_offer(), headers=headers)
    caller_session = caller.wait_for("audioVideoSession", "added")["_embedded"]["audioVideoSession"]
    callee_session = callee.wait_for("audioVideoSession", "added")["_embedded"]["audioVideoSession"]
    return dict(caller_session), dict(callee_session)
