"""The callRecord fold, against golden documents (CALLSCOPE_UPDATE_GOLDEN=1 rewrites them)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import msgspec
import pytest

from callscope.domain.call_history import Fact, FactKind
from callscope.domain.call_records import assembled_record
from callscope.domain.media_quality import summarize
from callscope.domain.record_assembly import CallIdentity, assemble, record_id
from callscope.services.preparation import DocumentPreparer
from callscope.services.schemas import load_schemas
from callscope.storage import call_records as call_records_store
from tests.support.webrtc_stats import report

GOLDEN = Path(__file__).parent / "golden"
T0 = 1_763_900_000_000_000  # 2025-11-23T12:13:20Z, in microseconds
S = 1_000_000
WHO = CallIdentity("tenant-1", "c0ffee", {"sip:alice@example.com": "Alice", "sip:bob@example.com": "Bob"})
INVITED = Fact(
    FactKind.INVITED,
    T0,
    "app-a",
    {
        "callerUri": "sip:alice@example.com",
        "calleeUri": "sip:bob@example.com",
        "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Teams/24295.605.3225.8804",
        "modalities": ["Audio"],
        "subject": None,
    },
)
CONNECTED = [
    INVITED,
    Fact(FactKind.ANSWERED, T0 + 4 * S, "app-b", {"userAgent": "Teams/6.14.1 (iOS 17.5)", "modalities": ["Audio"]}),
    Fact(FactKind.MEDIA, T0 + 60 * S, None, {"modalities": ["Audio", "Video"], "held": False}),
    Fact(FactKind.MEDIA, T0 + 120 * S, None, {"modalities": ["Audio", "Video"], "held": True}),
    Fact(FactKind.MEDIA, T0 + 150 * S, None, {"modalities": ["Audio"], "held": False}),
    Fact(FactKind.FEEDBACK, T0 + 170 * S, "app-a", {"rating": "good", "text": None, "tokens": {"Echo": False}}),
    Fact(FactKind.ENDED, T0 + 180 * S, None, {"outcome": "Ended"}),
]
# The connected call with getStats() reports from both sides, device and network details included.
REPORTED = [
    *CONNECTED[:3],
    Fact(
        FactKind.QUALITY,
        T0 + 90 * S,
        "app-a",
        summarize(
            {
                "stats": report(
                    {
                        "packetsReceived": 3000,
                        "packetsLost": 30,
                        "jitter": 0.02,
                        "concealedSamples": 960,
                        "totalSamplesReceived": 96000,
                    },
                    {
                        "packetsReceived": 900,
                        "packetsLost": 9,
                        "framesPerSecond": 29.5,
                        "framesReceived": 600,
                        "framesDropped": 6,
                    },
                    rtt=0.08,
                    bitrate=2_500_000,
                ),
                "device": {"captureDeviceName": "Built-in Mic", "renderDeviceName": "Speakers"},
                "network": {"connectionType": "wifi", "networkTransportProtocol": "udp", "ipAddress": "10.0.0.7"},
            }
        ),
    ),
    Fact(FactKind.QUALITY, T0 + 175 * S, "app-b", summarize({"stats": report(None, None, rtt=0.05)})),
    *CONNECTED[3:],
]
DECLINED = [INVITED, Fact(FactKind.ENDED, T0 + 7 * S, None, {"outcome": "Declined"})]
# Bob adds audio and video back to the conversation after it was stopped; Alice answers on her laptop.
READDED = Fact(
    FactKind.INVITED,
    T0 + 200 * S,
    "app-b",
    {
        "callerUri": "sip:bob@example.com",
        "calleeUri": "sip:alice@example.com",
        "userAgent": "Teams/6.14.1 (iOS 17.5)",
        "modalities": ["Audio", "Video"],
        "subject": None,
    },
)
TWO_SESSIONS = [
    *CONNECTED,
    READDED,
    Fact(FactKind.ANSWERED, T0 + 203 * S, "app-a", {"userAgent": INVITED.data["userAgent"], "modalities": ["Audio"]}),
    Fact(FactKind.FEEDBACK, T0 + 240 * S, "app-b", {"rating": "poor", "text": "echo", "tokens": {"Echo": True}}),
    Fact(FactKind.ENDED, T0 + 250 * S, None, {"outcome": "Ended"}),
]


def _check_golden(name: str, document: dict[str, Any]) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("CALLSCOPE_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


@pytest.mark.parametrize(
    ("name", "facts"),
    [
        ("connected_call", CONNECTED),
        ("reported_call", REPORTED),
        ("declined_call", DECLINED),
        ("two_session_call", TWO_SESSIONS),
    ],
)
def test_records_match_their_golden_documents_and_the_schema(name: str, facts: list[Fact]) -> None:
    document = assemble(WHO, facts, version=1, modified_us=T0 + 181 * S)
    _check_golden(name, document)
    # Valid against the CSDL, and complete as assembled: the import's checks would neither refuse nor change it,
    # which is why the bridge stores what it assembles without running them.
    prepared = DocumentPreparer(load_schemas()).prepare(1, msgspec.json.encode(document))
    assert msgspec.json.decode(call_records_store.unpack(prepared.document)) == document
    assert prepared == assembled_record(document, prepared.document)


def test_segments_follow_each_media_change_and_facts_order_by_time() -> None:
    document = assemble(WHO, list(reversed(CONNECTED)), version=3, modified_us=T0)
    (session,) = document["sessions"]
    starts = [s["startDateTime"][11:19] for s in session["segments"]]
    assert starts == ["12:13:24", "12:14:20", "12:15:20", "12:15:50"]
    assert session["segments"][-1]["endDateTime"] == document["endDateTime"]
    assert document["modalities"] == ["audio", "video"] and document["version"] == 3
    assert document["id"] == record_id("tenant-1", "c0ffee") == assemble(WHO, CONNECTED, 1, T0)["id"]


def test_an_unfinished_call_is_not_a_record() -> None:
    with pytest.raises(ValueError, match="ended"):
        assemble(WHO, [INVITED], version=1, modified_us=T0)


def test_a_call_ended_because_a_side_went_silent_failed_in_its_last_segment() -> None:
    dropped = [*CONNECTED[:-1], Fact(FactKind.ENDED, T0 + 180 * S, None, {"outcome": "CallTerminated"})]
    (session,) = assemble(WHO, dropped, version=1, modified_us=T0)["sessions"]
    assert session["failureInfo"]["stage"] == "midcall"
    assert [s["failureInfo"] for s in session["segments"][:-1]] == [None, None, None]
    assert session["segments"][-1]["failureInfo"]["reason"] == "ConnectionLost"


def test_calls_to_a_test_call_target_are_marked_as_tests() -> None:
    testing = CallIdentity("tenant-1", "c0ffee", WHO.names, frozenset({"sip:bob@example.com"}))
    assert assemble(testing, CONNECTED, 1, T0)["sessions"][0]["isTest"] is True
    assert assemble(WHO, CONNECTED, 1, T0)["sessions"][0]["isTest"] is False


def test_each_audio_video_session_of_a_conversation_is_a_session_of_the_record() -> None:
    document = assemble(WHO, TWO_SESSIONS, version=2, modified_us=T0 + 251 * S)
    first, second = document["sessions"]
    assert first == assemble(WHO, CONNECTED, 1, T0)["sessions"][0]  # the first session is as it was alone
    assert second["caller"]["identity"]["user"]["displayName"] == "Bob"
    assert second["callee"]["feedback"] is None and second["caller"]["feedback"]["rating"] == "poor"
    assert [s["startDateTime"][11:19] for s in second["segments"]] == ["12:16:43"]
    assert (document["startDateTime"], document["endDateTime"]) == (first["startDateTime"], second["endDateTime"])
    ids = [first["id"], second["id"], *(g["id"] for s in (first, second) for g in s["segments"])]
    assert len(set(ids)) == len(ids)
    assert document["organizer_v2"]["identity"]["user"]["displayName"] == "Alice"


def test_a_session_under_way_waits_until_it_ends() -> None:
    under_way = assemble(WHO, TWO_SESSIONS[:-1], version=1, modified_us=T0)
    assert [s["id"] for s in under_way["sessions"]] == [assemble(WHO, CONNECTED, 1, T0)["sessions"][0]["id"]]
