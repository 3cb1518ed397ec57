"""Call-quality reports shaped like WebRTC `getStats()`, and the Graph mediaStream metrics they make.

A client posts what `RTCPeerConnection.getStats()` returned (as an array of stats, or the map's
values), now and then during the call and once more at or after the hang-up. callscope keeps a
summary of each report: for each kind (audio, video) the main `inbound-rtp` stream's cumulative
counters and its codec, the round-trip time (`remote-inbound-rtp`, or the selected
`candidate-pair`), the outgoing bandwidth estimate, and optional `device` / `network` details.

A stream of a segment (the media one side *received*) is computed from the receiving side's
reports that fall in the segment (a report at or after the end belongs to the last segment):

- averageJitter / maxJitter: mean and maximum of the reports' `jitter`;
- averagePacketLossRate: packets lost ÷ packets expected over the segment (differences of the
  cumulative counters since the side's last report before the segment); maxPacketLossRate: the
  largest such ratio between two consecutive reports; packetUtilization: packets received;
- averageRoundTripTime / maxRoundTripTime: mean and maximum of both sides' round-trip times;
- averageBandwidthEstimate: mean of the *sending* side's `availableOutgoingBitrate` (bits/s);
- audio: averageRatioOfConcealedSamples (concealed ÷ received samples) and its largest ratio
  between two reports; video: averageVideoFrameRate (mean `framesPerSecond`) and
  averageVideoFrameLossPercentage (dropped ÷ received frames, in percent).

Checks: the fields callscope reads must be numbers (or null, or absent), every number must be
finite and within ±2⁵³ (what a browser's getStats can hold); jitter, round-trip time, bitrate,
frame rate and counters must not be negative and `fractionLost` must lie in [0, 1] (400
otherwise, naming the stat). A
negative `packetsLost` (RTP counts duplicates that way) is clamped to 0. Stat types of the W3C
list that callscope does not use are ignored; any other type is an error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from callscope.errors import InvalidRequest

W3C_TYPES = frozenset(
    {
        "codec",
        "inbound-rtp",
        "outbound-rtp",
        "remote-inbound-rtp",
        "remote-outbound-rtp",
        "media-source",
        "media-playout",
        "peer-connection",
        "data-channel",
        "transport",
        "candidate-pair",
        "local-candidate",
        "remote-candidate",
        "certificate",
    }
)
MAX_STATS = 500
INBOUND_FIELDS = (
    "jitter",
    "packetsReceived",
    "packetsLost",
    "framesPerSecond",
    "framesReceived",
    "framesDropped",
    "concealedSamples",
    "totalSamplesReceived",
)
NON_NEGATIVE = frozenset(
    {
        "jitter",
        "packetsReceived",
        "framesPerSecond",
        "framesReceived",
        "framesDropped",
        "concealedSamples",
        "totalSamplesReceived",
        "roundTripTime",
        "currentRoundTripTime",
        "availableOutgoingBitrate",
    }
)
READ_NUMBERS = NON_NEGATIVE | {"packetsLost", "fractionLost"}  # the fields this module computes with
MAX_NUMBER = 2**53  # the largest integer a JavaScript number holds exactly
AUDIO_CODECS = {"opus": "opus", "g722": "g722", "pcma": "pcma", "pcmu": "pcmu", "silk": "silk", "cn": "cn"}
VIDEO_CODECS = {"av1": "av1", "h264": "h264", "h265": "h265", "h263": "h263"}
DEVICE_FIELDS = ("captureDeviceName", "renderDeviceName", "captureDeviceDriver", "renderDeviceDriver")
NETWORK_ENUMS = {
    "connectionType": ("unknown", "wired", "wifi", "mobile", "tunnel"),
    "networkTransportProtocol": ("unknown", "udp", "tcp"),
}


def summarize(body: Any) -> dict[str, Any]:
    """The part of one report that the record needs; 400 for nonsense."""
    if not isinstance(body, dict):
        raise _invalid("stats", "The body must be a JSON object with `stats`.")
    stats = body.get("stats")
    if isinstance(stats, dict):
        stats = list(stats.values())
    if not isinstance(stats, list) or not stats or len(stats) > MAX_STATS:
        raise _invalid("stats", f"`stats` must hold 1 to {MAX_STATS} WebRTC stats objects.")
    by_id = {}
    for index, stat in enumerate(stats):
        _check(index, stat)
        by_id[str(stat.get("id", index))] = stat
    summary: dict[str, Any] = {"inbound": _inbound(by_id), **_transport(by_id)}
    summary.update(_extras(body))
    return summary


def stream_metrics(
    received: Sequence[Mapping[str, Any]],
    before: Mapping[str, Any] | None,
    sent: Sequence[Mapping[str, Any]],
    kind: str,
) -> dict[str, Any]:
    """mediaStream metrics of one direction and kind over a segment (see the module's rules)."""
    own = [r["inbound"][kind] for r in received if kind in r["inbound"]]
    if not own:
        return {}  # nothing of this kind was received: no stream
    base = before["inbound"].get(kind) if before else None
    metrics: dict[str, Any] = {}
    jitters = [s["jitter"] for s in own if s.get("jitter") is not None]
    if jitters:
        metrics |= {"averageJitter": duration(sum(jitters) / len(jitters)), "maxJitter": duration(max(jitters))}
    metrics |= _ratios(own, base, "packetsLost", "packetsReceived", "PacketLossRate", total_is_sum=True)
    received_packets = _delta(own, base, "packetsReceived")
    if received_packets is not None:
        metrics["packetUtilization"] = int(received_packets)
    rtts = [r["roundTripTime"] for r in (*received, *sent) if r.get("roundTripTime") is not None]
    if rtts:
        metrics |= {"averageRoundTripTime": duration(sum(rtts) / len(rtts)), "maxRoundTripTime": duration(max(rtts))}
    rates = [r["availableOutgoingBitrate"] for r in sent if r.get("availableOutgoingBitrate") is not None]
    if rates:
        metrics["averageBandwidthEstimate"] = round(sum(rates) / len(rates))
    codec = next((s["codec"] for s in reversed(own) if s.get("codec")), None)
    if kind == "audio":
        metrics |= _ratios(own, base, "concealedSamples", "totalSamplesReceived", "RatioOfConcealedSamples")
        if codec:
            metrics["audioCodec"] = AUDIO_CODECS.get(codec, "unknown")
    else:
        fps = [s["framesPerSecond"] for s in own if s.get("framesPerSecond") is not None]
        if fps:
            metrics["averageVideoFrameRate"] = round(sum(fps) / len(fps), 3)
        dropped, frames = _delta(own, base, "framesDropped"), _delta(own, base, "framesReceived")
        if dropped is not None and frames:
            metrics["averageVideoFrameLossPercentage"] = round(100 * dropped / frames, 4)
        if codec:
            metrics["videoCodec"] = VIDEO_CODECS.get(codec, "unknown")
    return metrics


def duration(seconds: float) -> str:
    """Seconds as Graph's ISO 8601 duration (`PT0.0123S`), to the 100-nanosecond tick."""
    text = f"{seconds:.7f}".rstrip("0").rstrip(".")
    return f"PT{text}S"


def _ratios(
    own: Sequence[Mapping[str, Any]],
    base: Mapping[str, Any] | None,
    part: str,
    whole: str,
    name: str,
    total_is_sum: bool = False,
) -> dict[str, float]:
    """average and max of part ÷ whole (or part ÷ (part + whole)) between consecutive cumulative samples."""
    points = [s for s in own if s.get(part) is not None and s.get(whole) is not None]
    if not points:
        return {}
    previous = base if base and base.get(part) is not None and base.get(whole) is not None else {part: 0, whole: 0}
    intervals = []
    for point in points:
        lost = max(0.0, point[part] - previous[part])
        total = max(0.0, point[whole] - previous[whole]) + (lost if total_is_sum else 0)
        intervals.append((lost, total))
        previous = point
    all_part, all_whole = sum(p for p, _ in intervals), sum(w for _, w in intervals)
    if all_whole <= 0:
        return {}
    worst = max(p / w for p, w in intervals if w > 0)
    return {f"average{name}": round(all_part / all_whole, 6), f"max{name}": round(min(1.0, worst), 6)}


def _delta(own: Sequence[Mapping[str, Any]], base: Mapping[str, Any] | None, field: str) -> float | None:
    values = [s[field] for s in own if s.get(field) is not None]
    if not values:
        return None
    start = base.get(field) if base and base.get(field) is not None else 0
    return float(max(0.0, values[-1] - start))


def _check(index: int, stat: Any) -> None:
    where = f"stats[{index}]"
    if not isinstance(stat, dict) or not isinstance(stat.get("type"), str):
        raise _invalid(where, f"{where} must be a stats object with a `type`.")
    if stat["type"] not in W3C_TYPES:
        raise _invalid(f"{where}.type", f"{where} has an unknown stats type {stat['type']!r}.")
    for name, value in stat.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            if name in READ_NUMBERS and value is not None:
                raise _invalid(f"{where}.{name}", f"{where}.{name} must be a number, not {value!r:.40}.")
            continue
        if (isinstance(value, float) and not math.isfinite(value)) or abs(value) > MAX_NUMBER:
            raise _invalid(f"{where}.{name}", f"{where}.{name} is not a finite number within ±2^53.")
        if name in NON_NEGATIVE and value < 0:
            raise _invalid(f"{where}.{name}", f"{where}.{name} cannot be negative ({value}).")
    fraction = stat.get("fractionLost")
    if isinstance(fraction, int | float) and not isinstance(fraction, bool) and not 0 <= fraction <= 1:
        raise _invalid(f"{where}.fractionLost", f"{where}.fractionLost must lie between 0 and 1 ({fraction}).")


def _inbound(by_id: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per kind, the inbound-rtp stream with the most packets (the main one)."""
    streams: dict[str, dict[str, Any]] = {}
    for stat in by_id.values():
        kind = stat.get("kind") or stat.get("mediaType")
        if stat["type"] != "inbound-rtp" or kind not in ("audio", "video"):
            continue
        if kind in streams and streams[kind].get("packetsReceived", 0) >= (stat.get("packetsReceived") or 0):
            continue
        kept = {name: stat[name] for name in INBOUND_FIELDS if stat.get(name) is not None}  # numbers, by _check
        kept["packetsLost"] = max(0, kept.get("packetsLost", 0))
        codec = by_id.get(str(stat.get("codecId")), {}).get("mimeType", "")
        kept["codec"] = str(codec).split("/")[-1].lower() or None
        streams[kind] = kept
    return streams


def _transport(by_id: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    remote = [s for s in by_id.values() if s["type"] == "remote-inbound-rtp"]
    pairs = [s for s in by_id.values() if s["type"] == "candidate-pair" and (s.get("nominated") or s.get("selected"))]
    rtts = _present(remote, "roundTripTime") or _present(pairs, "currentRoundTripTime")
    rates = _present(pairs, "availableOutgoingBitrate")
    return {
        "roundTripTime": max(rtts) if rtts else None,
        "availableOutgoingBitrate": max(rates) if rates else None,
    }


def _present(stats: Sequence[Mapping[str, Any]], name: str) -> list[float]:
    return [s[name] for s in stats if s.get(name) is not None]


def _extras(body: Mapping[str, Any]) -> dict[str, Any]:
    """Optional `device` names and `network` details, as Graph's deviceInfo / networkInfo take them."""
    extras: dict[str, Any] = {}
    device = body.get("device")
    if isinstance(device, dict):
        extras["device"] = {k: str(device[k])[:256] for k in DEVICE_FIELDS if isinstance(device.get(k), str)}
    network = body.get("network")
    if isinstance(network, dict):
        kept: dict[str, Any] = {}
        for name, allowed in NETWORK_ENUMS.items():
            value = network.get(name)
            if value is not None and value not in allowed:
                raise _invalid(f"network.{name}", f"network.{name} must be one of {', '.join(allowed)}.")
            if value is not None:
                kept[name] = value
        if isinstance(network.get("ipAddress"), str):
            kept["ipAddress"] = network["ipAddress"][:64]
        extras["network"] = kept
    return extras


def _invalid(name: str, message: str) -> InvalidRequest:
    return InvalidRequest(
        message, subcode="ParameterValidationFailure", parameters=[{"name": name, "reason": "Invalid"}]
    )
