"""getStats()-shaped reports, as a browser's RTCPeerConnection returns them."""

from __future__ import annotations

from typing import Any


def report(
    audio: dict[str, float] | None = None,
    video: dict[str, float] | None = None,
    rtt: float | None = None,
    bitrate: float | None = None,
) -> list[dict[str, Any]]:
    """A report with inbound audio/video counters, a round-trip time and a bandwidth estimate."""
    stats: list[dict[str, Any]] = [
        {"id": "CIT01_111", "type": "codec", "mimeType": "audio/opus", "clockRate": 48000, "payloadType": 111},
        {"id": "CIT01_96", "type": "codec", "mimeType": "video/H264", "clockRate": 90000, "payloadType": 96},
        {"id": "T01", "type": "transport", "bytesSent": 1234, "dtlsState": "connected"},
        {"id": "P01", "type": "peer-connection", "dataChannelsOpened": 0},
    ]
    if audio is not None:
        stats.append(
            {"id": "IT01A", "type": "inbound-rtp", "kind": "audio", "codecId": "CIT01_111", "ssrc": 1, **audio}
        )
    if video is not None:
        stats.append({"id": "IT01V", "type": "inbound-rtp", "kind": "video", "codecId": "CIT01_96", "ssrc": 2, **video})
    if rtt is not None:
        stats.append(
            {"id": "RI01A", "type": "remote-inbound-rtp", "kind": "audio", "roundTripTime": rtt, "jitter": 0.001}
        )
    if bitrate is not None:
        stats.append(
            {
                "id": "CP01",
                "type": "candidate-pair",
                "nominated": True,
                "state": "succeeded",
                "currentRoundTripTime": rtt or 0.05,
                "availableOutgoingBitrate": bitrate,
            }
        )
    return stats
