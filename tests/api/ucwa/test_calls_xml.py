"""The main call scenario spoken entirely in XML; every XML answer validates against callscope's schema."""

from __future__ import annotations

import time

import pytest
from lxml import etree

from callscope.app import Services
from tests.conftest import TENANT
from tests.support.ucwa import NS, UcwaClient, assert_valid_xml, sdp_offer

XML = "application/xml"
SDP = {"Content-Type": "application/sdp", "Accept": XML}


class XmlParty:
    """A client that asks for XML everywhere and reads its event channel as XML."""

    def __init__(self, base_url: str, user: str, password: str, device: str = "xml") -> None:
        self.client = UcwaClient(base_url)
        applications = self.client.sign_in(user, password)
        self.client.http.headers["Accept"] = XML
        body = (
            b'<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">'
            b'<property name="UserAgent">xml-client</property>'
            b'<property name="EndpointId">' + device.encode() + b"</property>"
            b'<property name="Culture">en-GB</property></input>'
        )
        created = self.client.post(applications, content=body, headers={"Content-Type": XML})
        self.application = assert_valid_xml(created.content)
        self.next = self.link(self.application, "events")
        me = self.application.find("u:resource[@rel='me']", NS)
        assert me is not None
        available = (
            b'<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa"><propertyList '
            b'name="SupportedModalities"><item>Audio</item></propertyList></input>'
        )
        assert (
            self.client.post(
                self.link(me, "makeMeAvailable"), content=available, headers={"Content-Type": XML}
            ).status_code
            == 204
        )
        self.backlog: list[etree._Element] = []

    @staticmethod
    def link(element: etree._Element, rel: str) -> str:
        found = element.find(f"u:link[@rel='{rel}']", NS)
        assert found is not None, f"no {rel} link"
        return str(found.get("href"))

    def wait_for(self, rel: str, kind: str, timeout: float = 10) -> etree._Element:
        deadline = time.monotonic() + timeout
        while True:
            for index, event in enumerate(self.backlog):
                if event.get("rel") == rel and etree.QName(event).localname == kind:
                    return self.backlog.pop(index)
            assert time.monotonic() < deadline, f"no {kind} {rel}"
            response = self.client.get(self.next, params={"timeout": "1", "medium": "0", "low": "0"})
            root = assert_valid_xml(response.content)
            self.next = self.link(root, "next")
            self.backlog += [event for sender in root.findall("u:sender", NS) for event in sender]


@pytest.fixture
def people(services: Services) -> None:
    services.users.add(TENANT, "alice@example.com", "Alice", "pw-a")
    services.users.add(TENANT, "bob@example.com", "Bob", "pw-b")


def test_call_hold_resume_and_hang_up_in_xml(base_url: str, people: None) -> None:
    alice = XmlParty(base_url, "alice@example.com", "pw-a")
    bob = XmlParty(base_url, "bob@example.com", "pw-b")
    communication = alice.application.find("u:resource[@rel='communication']", NS)
    assert communication is not None
    started = alice.client.post(
        alice.link(communication, "startAudioVideo"),
        content=sdp_offer(),
        params={"to": "sip:bob@example.com", "operationId": "x1"},
        headers=SDP,
    )
    assert started.status_code == 201
    assert_valid_xml(alice.client.get(started.headers["location"]).content)

    incoming = bob.wait_for("audioVideoInvitation", "started").find("u:resource", NS)
    assert incoming is not None
    assert incoming.find("u:property[@name='direction']", NS).text == "Incoming"
    accepted = bob.client.post(bob.link(incoming, "acceptWithAnswer"), content=sdp_offer(), headers=SDP)
    assert accepted.status_code == 204
    assert alice.wait_for("audioVideoInvitation", "completed").get("status") == "Success"
    session = alice.wait_for("audioVideoSession", "added").find("u:resource", NS)
    assert session is not None
    session_href = session.get("href")
    assert_valid_xml(alice.client.get(session_href).content)

    offer = alice.client.post(
        alice.link(session, "renegotiations"),
        content=sdp_offer(direction="sendonly"),
        params={"operationId": "hold"},
        headers=SDP,
    )
    assert offer.status_code == 201
    assert assert_valid_xml(offer.content).find("u:property[@name='direction']", NS).text == "Outgoing"
    hold = bob.wait_for("audioVideoRenegotiation", "started").find("u:resource", NS)
    assert bob.client.post(bob.link(hold, "answer"), content=sdp_offer(), headers=SDP).status_code == 204
    held = assert_valid_xml(alice.client.get(session_href).content)
    resume = alice.client.post(alice.link(held, "resumeAudio"), content=sdp_offer(), headers=SDP)
    assert resume.status_code == 201
    back = bob.wait_for("audioVideoRenegotiation", "started").find("u:resource", NS)
    assert bob.client.post(bob.link(back, "answer"), content=sdp_offer(), headers=SDP).status_code == 204
    alice.wait_for("audioVideoRenegotiation", "completed")
    assert alice.client.get(session_href).content.find(b"resumeAudio") < 0

    audio_video = assert_valid_xml(alice.client.get(alice.link(session, "audioVideo")).content)
    assert alice.client.post(alice.link(audio_video, "stopAudioVideo")).status_code == 204
    assert bob.wait_for("audioVideoSession", "deleted") is not None
    gone = alice.client.get(session_href)
    assert gone.status_code == 404
    assert assert_valid_xml(gone.content).find("u:subcode", NS).text == "ResourceNotFound"
    idle = assert_valid_xml(alice.client.get(alice.link(session, "audioVideo")).content)
    assert idle.find("u:property[@name='state']", NS).text == "Disconnected"
    again = alice.client.post(
        alice.link(idle, "addAudioVideo"), content=sdp_offer(), params={"to": "sip:bob@example.com"}, headers=SDP
    )
    assert again.status_code == 201
    ringing = bob.wait_for("audioVideoInvitation", "started").find("u:resource", NS)
    assert ringing.find("u:property[@name='direction']", NS).text == "Incoming"


def _call(alice: XmlParty) -> str:
    """Alice calls Bob; the href of her outgoing invitation."""
    communication = alice.application.find("u:resource[@rel='communication']", NS)
    assert communication is not None
    started = alice.client.post(
        alice.link(communication, "startAudioVideo"),
        content=sdp_offer(),
        params={"to": "sip:bob@example.com"},
        headers=SDP,
    )
    assert started.status_code == 201
    return str(started.headers["location"])


def _reason(event: etree._Element) -> tuple[str | None, str | None]:
    return event.get("status"), event.findtext("u:reason/u:subcode", namespaces=NS)


@pytest.mark.parametrize(
    ("ending", "subcode"), [("decline", "Declined"), ("cancel", "Canceled"), ("nobody", "Timeout")]
)
def test_calls_that_never_connect_in_xml(base_url: str, people: None, ending: str, subcode: str) -> None:
    alice = XmlParty(base_url, "alice@example.com", "pw-a")
    bob = XmlParty(base_url, "bob@example.com", "pw-b")
    outgoing = _call(alice)
    incoming = bob.wait_for("audioVideoInvitation", "started").find("u:resource", NS)
    assert incoming is not None
    if ending == "decline":
        assert bob.client.post(bob.link(incoming, "decline")).status_code == 204
    elif ending == "cancel":
        cancel = alice.link(assert_valid_xml(alice.client.get(outgoing).content), "cancel")
        assert alice.client.post(cancel).status_code == 204
    assert _reason(alice.wait_for("audioVideoInvitation", "completed", timeout=15)) == ("Failure", subcode)
    assert _reason(bob.wait_for("audioVideoInvitation", "completed", timeout=15)) == ("Failure", subcode)
    after = assert_valid_xml(bob.client.get(incoming.get("href")).content)
    assert after.find("u:link[@rel='acceptWithAnswer']", NS) is None
    late = bob.client.post(f"{incoming.get('href')}/acceptWithAnswer", content=sdp_offer(), headers=SDP)
    assert late.status_code in (404, 409)
    assert_valid_xml(late.content)


def test_the_second_device_sees_the_call_taken_in_xml(base_url: str, people: None) -> None:
    alice = XmlParty(base_url, "alice@example.com", "pw-a")
    desk = XmlParty(base_url, "bob@example.com", "pw-b", "desk")
    phone = XmlParty(base_url, "bob@example.com", "pw-b", "phone")
    _call(alice)
    offered = desk.wait_for("audioVideoInvitation", "started").find("u:resource", NS)
    assert phone.wait_for("audioVideoInvitation", "started") is not None
    assert desk.client.post(desk.link(offered, "acceptWithAnswer"), content=sdp_offer(), headers=SDP).status_code == 204
    assert _reason(phone.wait_for("audioVideoInvitation", "completed")) == ("Failure", "ConnectedElsewhere")
    assert alice.wait_for("audioVideoInvitation", "completed").get("status") == "Success"
    assert desk.wait_for("audioVideoSession", "added") is not None


def test_an_application_that_drops_its_p_get_gets_every_event_in_xml(base_url: str, people: None) -> None:
    alice = XmlParty(base_url, "alice@example.com", "pw-a")
    bob = XmlParty(base_url, "bob@example.com", "pw-b")
    _call(alice)  # Bob is not polling meanwhile: his events wait in the store
    alice.wait_for("audioVideoInvitation", "started")
    lost = bob.client.get(bob.next, params={"timeout": "1", "medium": "0", "low": "0"})  # answer never read
    assert lost.status_code == 200
    again = assert_valid_xml(bob.client.get(bob.next, params={"timeout": "1"}).content)  # same ack: resent
    assert again.find("u:sender", NS) is not None
    assert etree.tostring(again) == etree.tostring(assert_valid_xml(lost.content))
    bob.backlog += [event for sender in again.findall("u:sender", NS) for event in sender]
    bob.next = bob.link(again, "next")
    assert bob.wait_for("audioVideoInvitation", "started") is not None
