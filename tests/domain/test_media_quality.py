"""getStats() reports: what is kept, what is refused, and the averaging into mediaStream metrics."""

from __future__ import annotations

from typing import Any

import pytest

from callscope.domain.media_quality import duration, stream_metrics, summarize
from callscope.errors import InvalidRequest
from tests.support.webrtc_stats import report


def _audio(received: int, lost: int, jitter: float, concealed: int, samples: int) -> dict[str, float]:
    return {
        "packetsReceived": received,
        "packetsLost": lost,
        "jitter": jitter,
        "concealedSamples": concealed,
        "totalSamplesReceived": samples,
    }


def test_a_report_keeps_the_main_inbound_streams_rtt_and_bandwidth() -> None:
    video = {
        "packetsReceived": 900,
        "packetsLost": -2,
        "framesPerSecond": 29.5,
        "framesReceived": 600,
        "framesDropped": 6,
    }
    summary = summarize({"stats": report(_audio(1000, 10, 0.02, 480, 48000), video, rtt=0.08, bitrate=2_500_000)})
    assert summary["inbound"]["audio"]["codec"] == "opus" and summary["inbound"]["video"]["codec"] == "h264"
    assert summary["inbound"]["video"]["packetsLost"] == 0  # duplicates counted negative: clamped
    assert (summary["roundTripTime"], summary["availableOutgoingBitrate"]) == (0.08, 2_500_000)
    as_map = summarize({"stats": {s["id"]: s for s in report(_audio(1, 0, 0.0, 0, 10))}})
    assert as_map["inbound"]["audio"]["packetsReceived"] == 1


@pytest.mark.parametrize(
    ("stat", "name"),
    [
        ({"type": "inbound-rtp", "kind": "audio", "jitter": -0.01}, "stats[0].jitter"),
        ({"type": "remote-inbound-rtp", "fractionLost": 1.5}, "stats[0].fractionLost"),
        ({"type": "candidate-pair", "availableOutgoingBitrate": -1}, "stats[0].availableOutgoingBitrate"),
        ({"type": "inbound-rtp", "kind": "audio", "jitter": float("inf")}, "stats[0].jitter"),
        ({"type": "made-up-stats"}, "stats[0].type"),
        ({"kind": "audio"}, "stats[0]"),
        # Once 500s, or kept as they came and then breaking the record:
        ({"type": "inbound-rtp", "kind": "audio", "packetsReceived": "many"}, "stats[0].packetsReceived"),
        ({"type": "inbound-rtp", "kind": "audio", "jitter": True}, "stats[0].jitter"),
        ({"type": "remote-inbound-rtp", "roundTripTime": "0.1"}, "stats[0].roundTripTime"),
        ({"type": "remote-inbound-rtp", "roundTripTime": [0.1]}, "stats[0].roundTripTime"),
        (
            {"type": "candidate-pair", "nominated": True, "availableOutgoingBitrate": "fast"},
            "stats[0].availableOutgoingBitrate",
        ),
        ({"type": "inbound-rtp", "kind": "audio", "packetsReceived": 10**400}, "stats[0].packetsReceived"),
        ({"type": "inbound-rtp", "kind": "audio", "packetsLost": -(2**60)}, "stats[0].packetsLost"),
    ],
)
def test_nonsense_is_refused_naming_the_stat(stat: dict[str, Any], name: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        summarize({"stats": [stat]})
    assert refused.value.parameters == [{"name": name, "reason": "Invalid"}]


def test_nulls_are_absent_values_and_unread_fields_may_hold_anything() -> None:
    summary = summarize(
        {
            "stats": [
                {"type": "inbound-rtp", "kind": "audio", "packetsReceived": 9, "jitter": None, "trackIdentifier": [1]},
                {"type": "inbound-rtp", "kind": "audio", "packetsReceived": None},
                {"type": "remote-inbound-rtp", "roundTripTime": None},
                {"type": "remote-inbound-rtp", "roundTripTime": 0.05, "localId": {"x": 1}},
                {"type": "candidate-pair", "selected": True, "availableOutgoingBitrate": None},
            ]
        }
    )
    assert summary["inbound"]["audio"]["packetsReceived"] == 9 and "jitter" not in summary["inbound"]["audio"]
    assert summary["roundTripTime"] == 0.05
    assert summary["availableOutgoingBitrate"] is None


@pytest.mark.parametrize("body", [None, {}, {"stats": []}, {"stats": "x"}, {"stats": [{}] * 501}])
def test_a_report_needs_stats(body: Any) -> None:
    with pytest.raises(InvalidRequest):
        summarize(body)


def test_metrics_average_samples_and_difference_cumulative_counters() -> None:
    before = summarize({"stats": report(_audio(100, 0, 0.010, 0, 10_000), rtt=0.04)})
    received = [
        summarize({"stats": report(_audio(200, 10, 0.020, 100, 20_000), rtt=0.06)}),  # 10 of 110 lost
        summarize({"stats": report(_audio(490, 20, 0.030, 400, 50_000), rtt=0.08)}),  # 10 of 300 lost
    ]
    sent = [summarize({"stats": report(rtt=0.10, bitrate=1_000_000)}), summarize({"stats": report(bitrate=3_000_000)})]
    metrics = stream_metrics(received, before, sent, "audio")
    assert metrics["averageJitter"] == "PT0.025S" and metrics["maxJitter"] == "PT0.03S"
    assert metrics["averagePacketLossRate"] == round(20 / 410, 6)
    assert metrics["maxPacketLossRate"] == round(10 / 110, 6)
    assert metrics["packetUtilization"] == 390
    assert metrics["averageRoundTripTime"] == duration((0.06 + 0.08 + 0.10 + 0.05) / 4)
    assert metrics["averageBandwidthEstimate"] == 2_000_000
    assert metrics["averageRatioOfConcealedSamples"] == round(400 / 40_000, 6)
    assert metrics["maxRatioOfConcealedSamples"] == round(300 / 30_000, 6)
    assert metrics["audioCodec"] == "opus"
    assert stream_metrics(received, before, sent, "video") == {}  # no video was received


def test_durations_are_iso_8601_to_the_tick() -> None:
    assert (duration(0.007), duration(1.5), duration(0.00000012)) == ("PT0.007S", "PT1.5S", "PT0.0000001S")
