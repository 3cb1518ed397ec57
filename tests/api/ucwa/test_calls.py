"""Audio/video calls between two users, as UCWA clients make them, following links only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from callscope.app import Services
from tests.conftest import OTHER_TENANT, TENANT, TokenFactory
from tests.support.ucwa import Party, UcwaClient, assert_valid_xml, sdp_offer

SDP = {"Content-Type": "application/sdp"}


@pytest.fixture
def people(services: Services) -> None:
    services.users.add(TENANT, "alice@example.com", "Alice", "pw-a")
    services.users.add(TENANT, "bob@example.com", "Bob", "pw-b")
    services.users.add(OTHER_TENANT, "eve@elsewhere.example", "Eve", "pw-e")


def call(caller: Party, to: str = "sip:bob@example.com", **params: str) -> str:
    response = caller.client.post(
        caller.start_audio_video,
        content=sdp_offer(),
        params={"to": to, "operationId": "op-1", "sessionContext": "ctx-a", **params},
        headers=SDP,
    )
    assert response.status_code == 201, response.text
    return str(response.headers["location"])


def link(event: dict[str, Any], rel: str) -> str:
    return str(event["_embedded"][event["link"]["rel"]]["_links"][rel]["href"])


def updated(party: Party, rel: str, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The next `updated` event about `rel` whose resource is as wanted."""
    while not wanted(resource := party.wait_for(rel, "updated")["_embedded"][rel]):
        pass
    return resource


def test_call_accept_on_one_device_then_hang_up(base_url: str, people: None) -> None:
    alice = Party(base_url, "alice@example.com", "pw-a", "laptop")
    bob_desk = Party(base_url, "bob@example.com", "pw-b", "desk")
    bob_phone = Party(base_url, "bob@example.com", "pw-b", "phone")
    invitation_href = call(alice)
    started = alice.wait_for("audioVideoInvitation", "started")
    outgoing = started["_embedded"]["audioVideoInvitation"]
    assert (outgoing["direction"], outgoing["state"], outgoing["operationId"]) == ("Outgoing", "Connecting", "op-1")
    assert outgoing["_links"]["self"]["href"] == invitation_href
    incoming = bob_desk.wait_for("audioVideoInvitation", "started")["_embedded"]["audioVideoInvitation"]
    assert incoming["direction"] == "Incoming"
    assert incoming["_links"]["mediaOffer"]["href"].startswith("data:application/sdp,")
    assert incoming["_embedded"]["from"]["uri"] == "sip:alice@example.com"
    assert {"acceptWithAnswer", "decline"} <= set(incoming["_links"])
    bob_phone.wait_for("audioVideoInvitation", "started")

    accept = bob_desk.client.post(
        incoming["_links"]["acceptWithAnswer"]["href"],
        content=sdp_offer(),
        params={"sessionContext": "ctx-b"},
        headers=SDP,
    )
    assert accept.status_code == 204, accept.text
    done = alice.wait_for("audioVideoInvitation", "completed")
    assert done["status"] == "Success"
    session = alice.wait_for("audioVideoSession", "added")["_embedded"]["audioVideoSession"]
    assert (session["state"], session["sessionContext"]) == ("Established", "ctx-a")
    taken = bob_phone.wait_for("audioVideoInvitation", "completed")
    assert (taken["status"], taken["reason"]["subcode"]) == ("Failure", "ConnectedElsewhere")
    bob_session = bob_desk.client.get(
        session["_links"]["self"]["href"].replace(
            alice.application["_links"]["self"]["href"], bob_desk.application["_links"]["self"]["href"]
        )
    )
    assert bob_session.json()["sessionContext"] == "ctx-b"
    seen = alice.client.get(session["_links"]["self"]["href"], headers={"Accept": "application/xml"})
    assert assert_valid_xml(seen.content).get("rel") == "audioVideoSession"

    audio_video = alice.client.get(session["_links"]["audioVideo"]["href"]).json()
    assert audio_video["state"] == "Connected"
    assert alice.client.post(audio_video["_links"]["stopAudioVideo"]["href"]).status_code == 204
    assert bob_desk.wait_for("audioVideoSession", "deleted")
    idle = updated(bob_desk, "conversation", lambda c: not c["activeModalities"])
    assert idle["state"] == "Connected"
    assert alice.client.get(session["_links"]["self"]["href"]).status_code == 404


def test_audio_video_comes_back_to_a_conversation_and_leaving_ends_it(base_url: str, people: None) -> None:
    alice = Party(base_url, "alice@example.com", "pw-a", "laptop")
    bob_desk = Party(base_url, "bob@example.com", "pw-b", "desk")
    bob_phone = Party(base_url, "bob@example.com", "pw-b", "phone")
    first = call(alice)
    alice.wait_for("audioVideoInvitation", "started")
    incoming = bob_desk.wait_for("audioVideoInvitation", "started")
    bob_phone.wait_for("audioVideoInvitation", "started")
    assert bob_desk.client.post(link(incoming, "acceptWithAnswer"), content=sdp_offer(), headers=SDP).status_code == 204
    session = alice.wait_for("audioVideoSession", "added")["_embedded"]["audioVideoSession"]
    assert alice.client.post(session["_links"]["audioVideo"]["href"] + "/stopAudioVideo").status_code == 204
    stopped = updated(bob_desk, "audioVideo", lambda a: a["state"] == "Disconnected")
    assert alice.client.post(session["_links"]["audioVideo"]["href"] + "/stopAudioVideo").status_code == 409

    again = bob_desk.client.post(
        stopped["_links"]["addAudioVideo"]["href"],
        content=sdp_offer(video=True),
        params={"to": "sip:alice@example.com", "operationId": "op-2"},
        headers=SDP,
    )
    assert again.status_code == 201, again.text
    second = again.headers["location"]
    outgoing = bob_desk.wait_for("audioVideoInvitation", "started")["_embedded"]["audioVideoInvitation"]
    assert (outgoing["_links"]["self"]["href"], outgoing["operationId"]) == (second, "op-2")
    ringing = alice.wait_for("audioVideoInvitation", "started")
    assert ringing["_embedded"]["audioVideoInvitation"]["direction"] == "Incoming"
    assert link(ringing, "self") != first
    assert alice.client.get(first).status_code == 404  # the first invitation is over
    seen = bob_phone.backlog + bob_phone.events(timeout="1")
    assert not [e for e in seen if e["type"] == "started"]  # only the device in the conversation rings
    assert (
        alice.client.post(link(ringing, "acceptWithAnswer"), content=sdp_offer(video=True), headers=SDP).status_code
        == 204
    )
    back = bob_desk.wait_for("audioVideoSession", "added")["_embedded"]["audioVideoSession"]
    assert back["remoteEndpoint"] == "sip:alice@example.com"

    assert alice.client.delete(session["_links"]["conversation"]["href"]).status_code == 204
    assert bob_desk.wait_for("audioVideoSession", "deleted")
    assert bob_desk.wait_for("conversation", "deleted")


def test_a_declined_call_fails_on_both_sides(base_url: str, people: None) -> None:
    alice = Party(base_url, "alice@example.com", "pw-a", "laptop")
    bob = Party(base_url, "bob@example.com", "pw-b", "desk")
    call(alice)
    incoming = bob.wait_for("audioVideoInvitation", "started")
    assert bob.client.post(link(incoming, "decline"), json={"reason": "Local"}).status_code == 204
    completed = alice.wait_for("audioVideoInvitation", "completed")
    assert (completed["status"], completed["reason"]["code"], completed["reason"]["subcode"]) == (
        "Failure",
        "RemoteFailure",
        "Declined",
    )
    assert bob.wait_for("audioVideoInvitation", "completed")["status"] == "Failure"
    late = bob.client.post(link(incoming, "acceptWithAnswer"), content=sdp_offer(), headers=SDP)
    assert late.status_code == 409
    state = bob.client.get(incoming["link"]["href"]).json()
    assert state["state"] == "Declined"
    assert "acceptWithAnswer" not in state["_links"]


def test_the_caller_cancels_while_it_rings(base_url: str, people: None) -> None:
    alice = Party(base_url, "alice@example.com", "pw-a", "laptop")
    bob = Party(base_url, "bob@example.com", "pw-b", "desk")
    call(alice)
    outgoing = alice.wait_for("audioVideoInvitation", "started")
    assert alice.client.post(link(outgoing, "cancel")).status_code == 204
    cancelled = bob.wait_for("audioVideoInvitation", "completed")
    assert (cancelled["status"], cancelled["reason"]["subcode"]) == ("Failure", "Canceled")
    assert alice.wait_for("audioVideoInvitation", "completed")["status"] == "Failure"


def test_an_unanswered_call_times_out(base_url: str, people: None) -> None:
    alice = Party(base_url, "alice@example.com", "pw-a", "laptop")
    bob = Party(base_url, "bob@example.com", "pw-b", "desk")
    call(alice)
    completed = alice.wait_for("audioVideoInvitation", "completed", timeout=15)
    assert (completed["status"], completed["reason"]["subcode"]) == ("Failure", "Timeout")
    assert bob.wait_for("audioVideoInvitation", "completed")["reason"]["subcode"] == "Timeout"


def test_calling_someone_with_no_available_device_fails_at_once(base_url: str, people: None) -> None:
    alice = Party(base_url, "alice@example.com", "pw-a", "laptop")
    call(alice)
    completed = alice.wait_for("audioVideoInvitation", "completed")
    assert completed["reason"]["subcode"] == "TemporarilyUnavailable"


def test_a_json_media_offer_as_data_uri_starts_a_call(base_url: str, people: None) -> None:
    alice = Party(base_url, "alice@example.com", "pw-a", "laptop")
    bob = Party(base_url, "bob@example.com", "pw-b", "desk")
    import base64

    offer = "data:application/sdp;base64," + base64.b64encode(sdp_offer(video=True).encode()).decode()
    response = alice.client.post(
        alice.start_audio_video,
        json={"to": "sip:bob@example.com", "operationId": "op-j", "_links": {"mediaOffer": {"href": offer}}},
    )
    assert response.status_code == 201
    incoming = bob.wait_for("audioVideoInvitation", "started")
    assert incoming["_embedded"]["audioVideoInvitation"]["_links"]["mediaOffer"]["href"].startswith("data:")


@pytest.mark.parametrize(
    "body", ["garbage", "v=0\r\nm=audio x\r\n", "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\n"]
)
def test_malformed_sdp_is_a_parameter_validation_failure(base_url: str, people: None, body: str) -> None:
    alice = Party(base_url, "alice@example.com", "pw-a", "laptop")
    response = alice.client.post(
        alice.start_audio_video, content=body, params={"to": "sip:bob@example.com"}, headers=SDP
    )
    assert response.status_code == 400
    assert response.json()["parameters"] == [{"name": "sdp", "reason": "Invalid"}]


def test_scopes_and_other_tenants(base_url: str, people: None, make_token: TokenFactory) -> None:
    alice = Party(base_url, "alice@example.com", "pw-a", "laptop")
    invitation = call(alice, to="sip:bob@example.com")
    limited = UcwaClient(base_url)
    limited.token = make_token(scopes=("Conversations.Receive",))
    app = limited.create_application("/ucwa/oauth/v1/applications").json()
    start = app["_embedded"]["communication"]["_links"]["startAudioVideo"]["href"]
    denied = limited.post(start, content=sdp_offer(), params={"to": "sip:bob@example.com"}, headers=SDP)
    assert (denied.status_code, denied.json()["code"]) == (403, "Forbidden")
    eve = Party(base_url, "eve@elsewhere.example", "pw-e", "laptop")
    assert eve.client.get(invitation).status_code == 404
    to_other_tenant = alice.client.post(
        alice.start_audio_video, content=sdp_offer(), params={"to": "sip:eve@elsewhere.example"}, headers=SDP
    )
    assert (to_other_tenant.status_code, to_other_tenant.json()["subcode"]) == (404, "DestinationNotFound")


def test_deleting_an_application_hangs_up_its_call(base_url: str, people: None) -> None:
    alice = Party(base_url, "alice@example.com", "pw-a", "laptop")
    bob = Party(base_url, "bob@example.com", "pw-b", "desk")
    call(alice)
    incoming = bob.wait_for("audioVideoInvitation", "started")
    assert bob.client.post(link(incoming, "acceptWithAnswer"), content=sdp_offer(), headers=SDP).status_code == 204
    alice.wait_for("audioVideoSession", "added")
    assert alice.client.delete(alice.application["_links"]["self"]["href"]).status_code == 204
    assert bob.wait_for("audioVideoSession", "deleted")
    assert bob.wait_for("conversation", "deleted")


def test_early_media_reaches_the_caller_while_it_still_rings(base_url: str, people: None) -> None:
    alice = Party(base_url, "alice@example.com", "pw-a", "laptop")
    bob = Party(base_url, "bob@example.com", "pw-b", "desk")
    invitation_href = call(alice)
    incoming = bob.wait_for("audioVideoInvitation", "started")
    early = bob.client.post(link(incoming, "sendProvisionalAnswer"), content=sdp_offer(), headers=SDP)
    assert early.status_code == 204, early.text
    negotiation = alice.wait_for("audioVideoNegotiation", "updated")["_embedded"]["audioVideoNegotiation"]
    assert negotiation["_links"]["mediaProvisionalAnswer"]["href"].startswith("data:application/sdp,")
    assert alice.client.get(negotiation["_links"]["self"]["href"]).json() == negotiation
    assert alice.client.get(invitation_href).json()["state"] == "Connecting"
    assert bob.client.post(link(incoming, "acceptWithAnswer"), content=sdp_offer(), headers=SDP).status_code == 204
    late = bob.client.post(link(incoming, "sendProvisionalAnswer"), content=sdp_offer(), headers=SDP)
    assert late.status_code == 409


def test_over_long_operation_inputs_are_refused_not_cut(base_url: str, people: None) -> None:
    alice = Party(base_url, "alice@example.com", "pw-a", "laptop")
    response = alice.client.post(
        alice.start_audio_video,
        content=sdp_offer(),
        params={"to": "sip:bob@example.com", "operationId": "x" * 51, "subject": "s" * 251},
        headers=SDP,
    )
    assert response.status_code == 400
    assert {p["name"] for p in response.json()["parameters"]} == {"operationId", "subject"}


def test_a_later_session_that_fails_leaves_the_conversation_and_bad_adds_change_nothing(
    base_url: str, people: None, make_token: TokenFactory
) -> None:
    alice = Party(base_url, "alice@example.com", "pw-a", "laptop")
    bob = Party(base_url, "bob@example.com", "pw-b", "desk")
    call(alice)
    incoming = bob.wait_for("audioVideoInvitation", "started")
    assert bob.client.post(link(incoming, "acceptWithAnswer"), content=sdp_offer(), headers=SDP).status_code == 204
    session = alice.wait_for("audioVideoSession", "added")["_embedded"]["audioVideoSession"]
    add = session["_links"]["audioVideo"]["href"] + "/addAudioVideo"
    early = alice.client.post(add, content=sdp_offer(), params={"to": "sip:bob@example.com"}, headers=SDP)
    assert (early.status_code, early.json()["subcode"]) == (409, "AnotherOperationPending")  # AV is still up
    assert alice.client.post(session["_links"]["audioVideo"]["href"] + "/stopAudioVideo").status_code == 204
    updated(bob, "audioVideo", lambda a: "addAudioVideo" in a["_links"])

    missing = alice.client.post(add, content=sdp_offer(), headers=SDP)
    assert (missing.status_code, missing.json()["parameters"]) == (400, [{"name": "to", "reason": "Missing"}])
    garbled = alice.client.post(add, content="v=0\r\nnonsense", params={"to": "sip:bob@example.com"}, headers=SDP)
    assert garbled.status_code == 400
    eve = Party(base_url, "eve@elsewhere.example", "pw-e", "laptop")
    stranger = add.replace(alice.application["_links"]["self"]["href"], eve.application["_links"]["self"]["href"])
    assert eve.client.post(stranger, content=sdp_offer(), params={"to": "x"}, headers=SDP).status_code == 404
    assert alice.client.get(session["_links"]["conversation"]["href"]).json()["state"] == "Connected"

    again = alice.client.post(add, content=sdp_offer(), params={"to": "sip:bob@example.com"}, headers=SDP)
    assert again.status_code == 201
    ringing = bob.wait_for("audioVideoInvitation", "started")
    assert bob.client.post(link(ringing, "decline")).status_code == 204
    failed = alice.wait_for("audioVideoInvitation", "completed")
    while failed["_embedded"]["audioVideoInvitation"]["_links"]["self"]["href"] != again.headers["location"]:
        failed = alice.wait_for("audioVideoInvitation", "completed")
    assert (failed["status"], failed["reason"]["subcode"]) == ("Failure", "Declined")
    after = updated(alice, "conversation", lambda c: c["state"] == "Connected" and not c["activeModalities"])
    assert "audioVideo" in after["_links"]  # the conversation stays; a declined later session does not end it
    assert bob.client.post(link(ringing, "acceptWithAnswer"), content=sdp_offer(), headers=SDP).status_code == 409

    assert bob.client.delete(alice.application["_links"]["self"]["href"]).status_code == 404
    assert alice.client.delete(alice.application["_links"]["self"]["href"]).status_code == 204
    assert bob.wait_for("conversation", "deleted")  # an application that ends leaves its Idle conversations
