"""Live UCWA calls become Graph call records the moment they end, read back with Microsoft's SDK."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime
from typing import Any

import httpx
import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from sqlalchemy import text

from callscope.app import Services
from callscope.domain.record_assembly import user_id
from tests.api.ucwa.test_renegotiation import renegotiate
from tests.conftest import TENANT, TokenFactory
from tests.support.graph_sdk import beta_client, v1_client
from tests.support.ucwa import Party, connect, sdp_offer
from tests.support.webrtc_stats import report

SDP = {"Content-Type": "application/sdp"}
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0.0.0 Safari/537.36"  # UCWA allows 100 characters
TEAMS = "Teams/6.14.1 (iPhone15,2; iOS 17.5)"


@pytest.fixture
def people(base_url: str, services: Services) -> tuple[Party, Party]:
    services.users.add(TENANT, "alice@example.com", "Alice Ångström", "pw")
    services.users.add(TENANT, "bob@example.com", "Bob 李", "pw")
    alice = Party(base_url, "alice@example.com", "pw", "laptop", user_agent=CHROME)
    return alice, Party(base_url, "bob@example.com", "pw", "phone", user_agent=TEAMS)


def _record(base_url: str, token: str, record_id: str, flavour: str = "beta") -> Any:
    client = (beta_client if flavour == "beta" else v1_client)(base_url, token)
    builder = client.communications.call_records.by_call_record_id(record_id)
    config = RequestConfiguration(
        query_parameters=builder.CallRecordItemRequestBuilderGetQueryParameters(
            expand=["sessions($expand=segments)", "participants_v2"]
        )
    )

    async def get() -> Any:
        try:
            return await builder.get(request_configuration=config)
        finally:
            await client.request_adapter._http_client.aclose()

    return asyncio.run(get())


def _only_record(base_url: str, token: str) -> dict[str, Any]:
    listed = httpx.get(
        f"{base_url}/beta/communications/callRecords", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert len(listed["value"]) == 1, listed
    return dict(listed["value"][0])


def test_a_call_with_video_hold_resume_and_feedback_is_a_record_at_hang_up(
    base_url: str, make_token: TokenFactory, people: tuple[Party, Party]
) -> None:
    alice, bob = people
    alice_session, bob_session = connect(alice, bob, "sip:bob@example.com")
    renegotiate(alice, bob, alice_session["_links"]["renegotiations"]["href"], sdp_offer(video=True))
    held = renegotiate(
        bob, alice, bob_session["_links"]["renegotiations"]["href"], sdp_offer(video=True, direction="sendonly")
    )
    renegotiate(bob, alice, held["_links"]["resumeAudioVideo"]["href"], sdp_offer(video=True))
    feedback = alice_session["_links"]["publishCallQualityFeedback"]["href"]
    rated = alice.client.post(feedback, json={"rating": "Good", "text": "clear", "tokens": {"Echo": True}})
    assert rated.status_code == 204
    token = make_token()
    assert (
        httpx.get(f"{base_url}/beta/communications/callRecords", headers={"Authorization": f"Bearer {token}"}).json()[
            "value"
        ]
        == []
    )  # nothing before the end

    stop = alice_session["_links"]["audioVideo"]["href"] + "/stopAudioVideo"
    assert alice.client.post(stop).status_code == 204
    listed = _only_record(base_url, token)  # readable as soon as the hang-up returned

    record = _record(base_url, token, listed["id"])
    assert (record.version, record.type.value, [m.value for m in record.modalities]) == (
        1,
        "peerToPeer",
        ["audio", "video"],
    )
    assert record.organizer_v2.id == user_id("sip:alice@example.com")
    assert {p.identity.user.display_name for p in record.participants_v2} == {"Alice Ångström", "Bob 李"}
    (session,) = record.sessions
    assert session.caller.associated_identity.display_name == "Alice Ångström"
    assert session.callee.associated_identity.display_name == "Bob 李"
    assert (session.caller.user_agent.platform.value, session.caller.user_agent.product_family.value) == (
        "web",
        "unknown",
    )
    assert (session.callee.user_agent.platform.value, session.callee.user_agent.product_family.value) == (
        "iOS",
        "teams",
    )
    assert session.caller.user_agent.header_value == CHROME
    assert (session.caller.feedback.rating.value, session.caller.feedback.text) == ("good", "clear")
    assert session.caller.feedback.tokens.additional_data == {"Echo": True}
    assert session.callee.feedback is None and session.failure_info is None
    # connected (audio) → video added → held → resumed: four stretches of stable media
    assert [[m.label for m in s.media] for s in session.segments] == [
        ["main-audio"],
        ["main-audio", "main-video"],
        ["main-audio", "main-video"],
        ["main-audio", "main-video"],
    ]
    bounds = [(s.start_date_time, s.end_date_time) for s in session.segments]
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
    assert bounds[-1][1] == session.end_date_time == record.end_date_time
    assert record.start_date_time <= bounds[0][0]

    v1 = _record(base_url, token, listed["id"], "v1.0")
    assert v1.organizer.user.display_name == "Alice Ångström"

    late = bob.client.post(
        bob_session["_links"]["publishCallQualityFeedback"]["href"],
        json={"rating": "poor", "tokens": {"NoSound": True}},
    )
    assert late.status_code == 204
    again = _record(base_url, token, listed["id"])
    assert again.version == 2 and again.last_modified_date_time > record.last_modified_date_time
    assert again.sessions[0].callee.feedback.rating.value == "poor"
    assert isinstance(again.last_modified_date_time, datetime)


@pytest.mark.parametrize(
    ("how", "reason"),
    [("decline", "Declined"), ("cancel", "Cancelled"), ("nobody", "NoAnswer")],
)
def test_calls_that_never_connect_are_records_with_failure_info(
    base_url: str, make_token: TokenFactory, people: tuple[Party, Party], how: str, reason: str
) -> None:
    alice, bob = people
    started = alice.client.post(
        alice.start_audio_video, content=sdp_offer(), params={"to": "sip:bob@example.com"}, headers=SDP
    )
    incoming = bob.wait_for("audioVideoInvitation", "started")["_embedded"]["audioVideoInvitation"]
    if how == "decline":
        assert bob.client.post(incoming["_links"]["decline"]["href"]).status_code == 204
    elif how == "cancel":
        outgoing = alice.client.get(started.headers["location"]).json()
        assert alice.client.post(outgoing["_links"]["cancel"]["href"]).status_code == 204
    else:  # the suite's ring timeout is 3 s
        alice.wait_for("audioVideoInvitation", "completed", timeout=15)
    token = make_token()
    record = _record(base_url, token, _only_record(base_url, token)["id"])
    (session,) = record.sessions
    assert (session.failure_info.stage.value, session.failure_info.reason) == ("callSetup", reason)
    (segment,) = session.segments
    assert segment.failure_info.reason == reason and segment.media == []
    assert session.callee.user_agent is None  # nobody answered
    assert session.caller.user_agent.header_value == CHROME


def _silence(services: Services, party: Party) -> None:
    """As if the party's application had last been heard from long ago, with no P-GET parked."""
    with services.engine.begin() as conn:
        conn.execute(
            text("UPDATE applications SET last_seen_us = 0, parked_until_us = NULL WHERE id = :id"),
            {"id": party.application["_links"]["self"]["href"].rsplit("/", 1)[1]},
        )


def _stream(record: Any, segment: int, label: str, direction: str) -> Any:
    media = next(m for m in record.sessions[0].segments[segment].media if m.label == label)
    return next(s for s in media.streams if s.stream_direction.value == direction)


def test_quality_reports_become_the_stream_metrics_of_each_segment(
    base_url: str, make_token: TokenFactory, people: tuple[Party, Party]
) -> None:
    alice, bob = people
    alice_session, bob_session = connect(alice, bob, "sip:bob@example.com")
    alice_reports = alice_session["_links"]["mediaQualityReports"]["href"]
    bob_reports = bob_session["_links"]["mediaQualityReports"]["href"]

    def audio(received: int, lost: int, jitter: float) -> dict[str, float]:
        return {"packetsReceived": received, "packetsLost": lost, "jitter": jitter}

    # segment 0 (audio): Bob receives Alice's audio; Alice reports her round-trip time and bandwidth
    network = {"connectionType": "wifi", "networkTransportProtocol": "udp", "ipAddress": "10.0.0.7"}
    device = {"captureDeviceName": "Jabra Evolve2 65", "renderDeviceName": "Jabra Evolve2 65"}
    for stats in (report(audio(100, 0, 0.010)), report(audio(200, 10, 0.030))):
        assert bob.client.post(bob_reports, json={"stats": stats, "network": network}).status_code == 204
    assert (
        alice.client.post(
            alice_reports, json={"stats": report(rtt=0.05, bitrate=800_000), "device": device}
        ).status_code
        == 204
    )
    renegotiate(alice, bob, alice_session["_links"]["renegotiations"]["href"], sdp_offer(video=True))
    # segment 1 (audio and video)
    video = {
        "packetsReceived": 1000,
        "packetsLost": 0,
        "framesPerSecond": 24.0,
        "framesReceived": 500,
        "framesDropped": 5,
    }
    assert bob.client.post(bob_reports, json={"stats": report(audio(300, 10, 0.020), video)}).status_code == 204
    stop = alice_session["_links"]["audioVideo"]["href"] + "/stopAudioVideo"
    assert alice.client.post(stop).status_code == 204
    final = report(
        audio(400, 10, 0.040), {**video, "packetsReceived": 2000, "framesReceived": 1000, "framesDropped": 15}
    )
    assert bob.client.post(bob_reports, json={"stats": final}).status_code == 204  # after the hang-up

    token = make_token()
    record = _record(base_url, token, _only_record(base_url, token)["id"])
    assert record.version == 2  # written at the hang-up, then again for the report that came after it
    first = _stream(record, 0, "main-audio", "callerToCallee")
    assert (first.average_jitter.total_seconds(), first.max_jitter.total_seconds()) == (0.02, 0.03)
    assert first.average_packet_loss_rate == pytest.approx(10 / 210, abs=1e-6)
    assert first.packet_utilization == 200 and first.audio_codec.value == "opus"
    assert first.average_round_trip_time.total_seconds() == 0.05
    assert first.average_bandwidth_estimate == 800_000
    media = record.sessions[0].segments[0].media[0]
    assert media.callee_network.connection_type.value == "wifi" and media.callee_network.ip_address == "10.0.0.7"
    assert media.caller_device.capture_device_name == "Jabra Evolve2 65"
    assert [s.stream_direction.value for s in media.streams] == ["callerToCallee"]  # Alice reported no inbound media

    later = _stream(record, 1, "main-audio", "callerToCallee")
    assert later.average_jitter.total_seconds() == 0.03  # the reports of segment 1 and the final one
    assert later.packet_utilization == 200  # 400 - 200 received since the last report of segment 0
    moving = _stream(record, 1, "main-video", "callerToCallee")
    assert moving.average_video_frame_rate == 24.0
    assert moving.average_video_frame_loss_percentage == pytest.approx(1.5)
    assert moving.video_codec.value == "h264"


def test_quality_reports_with_nonsense_are_refused_and_change_nothing(
    base_url: str, make_token: TokenFactory, people: tuple[Party, Party]
) -> None:
    alice, bob = people
    _, session = connect(alice, bob, "sip:bob@example.com")
    href = session["_links"]["mediaQualityReports"]["href"]
    for stats, name in (
        ([{"type": "inbound-rtp", "kind": "audio", "jitter": -1}], "stats[0].jitter"),
        ([{"type": "remote-inbound-rtp", "fractionLost": 2}], "stats[0].fractionLost"),
        ([{"type": "rtp-magic"}], "stats[0].type"),
    ):
        refused = bob.client.post(href, json={"stats": stats})
        assert (refused.status_code, refused.json()["parameters"][0]["name"]) == (400, name)
    assert bob.client.post(session["_links"]["audioVideo"]["href"] + "/stopAudioVideo").status_code == 204
    record = _record(base_url, make_token(), _only_record(base_url, make_token())["id"])
    assert record.version == 1 and record.sessions[0].segments[0].media[0].streams == []


def test_a_call_whose_side_goes_silent_is_ended_and_recorded_as_failed_mid_call(
    base_url: str, services: Services, make_token: TokenFactory, people: tuple[Party, Party]
) -> None:
    alice, bob = people
    connect(alice, bob, "sip:bob@example.com")
    _silence(services, alice)  # Alice's device vanished minutes ago
    assert bob.wait_for("conversation", "deleted", timeout=10)
    token = make_token()
    record = _record(base_url, token, _only_record(base_url, token)["id"])
    (session,) = record.sessions
    assert (session.failure_info.stage.value, session.failure_info.reason) == ("midcall", "ConnectionLost")
    assert session.segments[-1].failure_info.stage.value == "midcall"
    assert session.callee.user_agent.platform.value == "iOS"


def test_audio_video_added_back_to_a_conversation_is_a_second_session_of_its_record(
    base_url: str, make_token: TokenFactory, people: tuple[Party, Party]
) -> None:
    alice, bob = people
    alice_session, bob_session = connect(alice, bob, "sip:bob@example.com")
    assert alice.client.post(alice_session["_links"]["audioVideo"]["href"] + "/stopAudioVideo").status_code == 204
    token = make_token()
    first = _record(base_url, token, _only_record(base_url, token)["id"])
    assert (first.version, len(first.sessions)) == (1, 1)  # the first session is a record as soon as it ends

    audio_video = bob.client.get(bob_session["_links"]["audioVideo"]["href"]).json()
    added = bob.client.post(
        audio_video["_links"]["addAudioVideo"]["href"],
        content=sdp_offer(video=True),
        params={"to": "sip:alice@example.com"},
        headers=SDP,
    )
    assert added.status_code == 201, added.text
    incoming = alice.wait_for("audioVideoInvitation", "started")["_embedded"]["audioVideoInvitation"]
    while incoming["direction"] != "Incoming":  # Alice's own first invitation came first
        incoming = alice.wait_for("audioVideoInvitation", "started")["_embedded"]["audioVideoInvitation"]
    answer = sdp_offer(video=True)
    assert (
        alice.client.post(incoming["_links"]["acceptWithAnswer"]["href"], content=answer, headers=SDP).status_code
        == 204
    )
    bob.wait_for("audioVideoSession", "added")
    assert bob.client.delete(bob_session["_links"]["conversation"]["href"]).status_code == 204

    record = _record(base_url, token, first.id)
    assert record.version == 2 and [m.value for m in record.modalities] == ["audio", "video"]
    one, two = record.sessions
    assert one.id == first.sessions[0].id and one.caller.associated_identity.display_name == "Alice Ångström"
    assert two.caller.associated_identity.display_name == "Bob 李"  # Bob invited the second time
    assert (two.caller.user_agent.header_value, two.callee.user_agent.header_value) == (TEAMS, CHROME)
    assert [m.value for m in two.modalities] == ["audio", "video"] and two.failure_info is None
    assert one.end_date_time <= two.start_date_time and two.end_date_time == record.end_date_time
    assert [[m.label for m in s.media] for s in two.segments] == [["main-audio", "main-video"]]


def test_an_idle_conversation_whose_side_goes_silent_ends_and_its_record_stays_as_it_was(
    base_url: str, services: Services, make_token: TokenFactory, people: tuple[Party, Party]
) -> None:
    alice, bob = people
    alice_session, _ = connect(alice, bob, "sip:bob@example.com")
    assert alice.client.post(alice_session["_links"]["audioVideo"]["href"] + "/stopAudioVideo").status_code == 204
    _silence(services, bob)  # Bob's phone vanished minutes ago
    assert alice.wait_for("conversation", "deleted", timeout=10)
    token = make_token()
    record = _record(base_url, token, _only_record(base_url, token)["id"])
    assert record.version == 1 and record.sessions[0].failure_info is None  # it had ended well before
