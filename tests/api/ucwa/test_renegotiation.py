"""Mid-call changes: add video, hold, resume, dismiss, one offer at a time, and call-quality feedback."""

from __future__ import annotations

from typing import Any

import pytest

from callscope.app import Services
from tests.conftest import TENANT
from tests.support.ucwa import Party, connect, sdp_offer

SDP = {"Content-Type": "application/sdp"}


@pytest.fixture
def connected(base_url: str, services: Services) -> tuple[Party, Party, dict[str, Any], dict[str, Any]]:
    """Alice called Bob and Bob answered: both parties and both sessions."""
    services.users.add(TENANT, "alice@example.com", "Alice", "pw-a")
    services.users.add(TENANT, "bob@example.com", "Bob", "pw-b")
    alice = Party(base_url, "alice@example.com", "pw-a", "laptop")
    bob = Party(base_url, "bob@example.com", "pw-b", "desk")
    alice_session, bob_session = connect(alice, bob, "sip:bob@example.com")
    return alice, bob, alice_session, bob_session


def renegotiate(offerer: Party, answerer: Party, href: str, sdp: str) -> dict[str, Any]:
    response = offerer.client.post(href, content=sdp, params={"operationId": "reneg-1"}, headers=SDP)
    assert response.status_code == 201, response.text
    assert response.json()["direction"] == "Outgoing"
    assert (
        offerer.wait_for("audioVideoRenegotiation", "started")["_embedded"]["audioVideoRenegotiation"]["direction"]
        == "Outgoing"
    )
    started = answerer.wait_for("audioVideoRenegotiation", "started")["_embedded"]["audioVideoRenegotiation"]
    assert started["direction"] == "Incoming"
    assert started["_links"]["mediaOffer"]["href"].startswith("data:application/sdp,")
    answered = answerer.client.post(started["_links"]["answer"]["href"], content=sdp_offer(video=True), headers=SDP)
    assert answered.status_code == 204, answered.text
    completed = offerer.wait_for("audioVideoRenegotiation", "completed")
    assert completed["status"] == "Success"
    assert answerer.wait_for("audioVideoRenegotiation", "completed")["status"] == "Success"
    answerer.wait_for("audioVideoSession", "updated")
    return dict(offerer.wait_for("audioVideoSession", "updated")["_embedded"]["audioVideoSession"])


def test_add_video_then_hold_then_resume(connected: tuple[Party, Party, dict[str, Any], dict[str, Any]]) -> None:
    alice, bob, alice_session, bob_session = connected
    assert set(alice_session["_links"]) >= {
        "self",
        "applicationSharing",
        "audioVideo",
        "conversation",
        "dataCollaboration",
        "publishCallQualityFeedback",
        "renegotiations",
    }
    assert "resumeAudio" not in alice_session["_links"]
    renegotiate(alice, bob, alice_session["_links"]["renegotiations"]["href"], sdp_offer(video=True))
    conversation = alice.client.get(alice_session["_links"]["conversation"]["href"]).json()
    assert conversation["activeModalities"] == ["Audio", "Video"]

    held = renegotiate(
        bob, alice, bob_session["_links"]["renegotiations"]["href"], sdp_offer(video=True, direction="sendonly")
    )
    assert {"resumeAudio", "resumeAudioVideo"} <= set(held["_links"])
    assert held["state"] == "Established"
    other = alice.client.get(alice_session["_links"]["self"]["href"]).json()
    assert "resumeAudio" not in other["_links"]

    resumed = renegotiate(bob, alice, held["_links"]["resumeAudioVideo"]["href"], sdp_offer(video=True))
    assert "resumeAudio" not in resumed["_links"]


def test_resume_audio_after_hold(connected: tuple[Party, Party, dict[str, Any], dict[str, Any]]) -> None:
    alice, bob, alice_session, _bob_session = connected
    held = renegotiate(alice, bob, alice_session["_links"]["renegotiations"]["href"], sdp_offer(direction="inactive"))
    resumed = renegotiate(alice, bob, held["_links"]["resumeAudio"]["href"], sdp_offer())
    assert "resumeAudio" not in resumed["_links"]


def test_only_one_offer_at_a_time_and_dismiss_changes_nothing(
    connected: tuple[Party, Party, dict[str, Any], dict[str, Any]],
) -> None:
    alice, bob, alice_session, bob_session = connected
    first = alice.client.post(
        alice_session["_links"]["renegotiations"]["href"], content=sdp_offer(video=True), headers=SDP
    )
    assert first.status_code == 201
    second = bob.client.post(bob_session["_links"]["renegotiations"]["href"], content=sdp_offer(), headers=SDP)
    assert (second.status_code, second.json()["subcode"]) == (409, "AlreadyExists")
    started = bob.wait_for("audioVideoRenegotiation", "started")["_embedded"]["audioVideoRenegotiation"]
    assert bob.client.post(started["_links"]["dismiss"]["href"], json={"reason": "Unknown"}).status_code == 204
    assert alice.wait_for("audioVideoRenegotiation", "completed")["status"] == "Failure"
    conversation = alice.client.get(alice_session["_links"]["conversation"]["href"]).json()
    assert conversation["activeModalities"] == ["Audio"]
    again = bob.client.post(started["_links"]["answer"]["href"], content=sdp_offer(), headers=SDP)
    assert again.status_code == 404


def test_resume_is_refused_when_not_on_hold(connected: tuple[Party, Party, dict[str, Any], dict[str, Any]]) -> None:
    alice, _bob, alice_session, _ = connected
    resume = alice_session["_links"]["self"]["href"] + "/resumeAudio"
    response = alice.client.post(resume, content=sdp_offer(), headers=SDP)
    assert response.status_code == 409


def test_call_quality_feedback_is_accepted_and_checked(
    connected: tuple[Party, Party, dict[str, Any], dict[str, Any]], services: Services
) -> None:
    alice, _bob, alice_session, _ = connected
    href = alice_session["_links"]["publishCallQualityFeedback"]["href"]
    good = alice.client.post(
        href, json={"rating": "Good", "text": "Clear ✓", "tokens": {"Echo": False}, "mediaEndpoint": "laptop"}
    )
    assert good.status_code == 204
    bad = alice.client.post(href, json={"rating": "superb", "tokens": {"Echo": "yes"}})
    assert bad.status_code == 400
    assert {p["name"] for p in bad.json()["parameters"]} == {"rating", "tokens"}
    annotation = alice.client.post(href, json={"rating": "good", "tokens": {"@odata.type": True}})
    assert annotation.status_code == 400  # it would have replaced the token set's type in the record
    assert annotation.json()["parameters"] == [{"name": "tokens", "reason": "Invalid"}]
    call_id = alice_session["_links"]["self"]["href"].split("/conversations/")[1].split("/")[0]
    app_id = alice.application["_links"]["self"]["href"].rsplit("/", 1)[1]
    stored = services.calls.get(TENANT, app_id, call_id)
    assert stored.feedback[app_id] == {
        "rating": "good",
        "text": "Clear ✓",
        "tokens": {"Echo": False},
        "mediaEndpoint": "laptop",
    }
