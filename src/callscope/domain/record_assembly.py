"""A call's Graph callRecord, folded from its facts (`call_history`): pure, so golden-tested.

A peer-to-peer call gives one session per audio/video session of its conversation (the first
invitation, then each addAudioVideo), from the caller's endpoint (the device that invited) to the
callee's (the device that answered); a session still under way is left out until it ends. An
answered session has one segment per stretch of stable media: it opens on the answer and again at
every accepted renegotiation, hold and resume. A session nobody answered has one segment from
invitation to end, both carrying its failureInfo.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from callscope.domain.call_history import Fact, FactKind
from callscope.domain.guids import name_guid
from callscope.domain.media_quality import stream_metrics
from callscope.domain.timestamps import graph_timestamp
from callscope.domain.user_agents import client_user_agent
from callscope.domain.users import default_name

NS = "#microsoft.graph.callRecords"
GRAPH_MODALITIES = {"Audio": "audio", "Video": "video", "ApplicationSharing": "screenSharing"}
MEDIA_LABELS = {"Audio": "main-audio", "Video": "main-video", "ApplicationSharing": "applicationsharing-video"}
KINDS = {"Audio": "audio", "Video": "video"}  # what getStats() calls them; screen sharing is not told apart
# (direction, sending side, receiving side) of the two streams of each media
STREAMS = (("callerToCallee", "caller", "callee"), ("calleeToCaller", "callee", "caller"))
# How a call that never connected ended, as failureInfo reasons (stage callSetup).
SETUP_FAILURES = {
    "Declined": "Declined",
    "Canceled": "Cancelled",
    "Timeout": "NoAnswer",
    "TemporarilyUnavailable": "CalleeUnavailable",
}


@dataclass(frozen=True)
class CallIdentity:
    """Who and what a record is about, beside its facts."""

    tenant_id: str
    call_id: str
    names: Mapping[str, str]  # display names by SIP URI
    test_targets: frozenset[str] = frozenset()  # SIP URIs of test-call services


def record_id(tenant_id: str, call_id: str) -> str:
    """The callRecord id of a call: a GUID, the same every time it is asked for."""
    return name_guid(f"callscope:{tenant_id}:{call_id}")


@functools.lru_cache(maxsize=4096)  # asked for each endpoint of each record written
def user_id(uri: str) -> str:
    """A user's Graph id: a GUID derived from the SIP URI (what `participants_v2/any(...)` filters on)."""
    return name_guid(uri)


def assemble(who: CallIdentity, facts: Sequence[Fact], version: int, modified_us: int) -> dict[str, Any]:
    """The callRecord document (beta's shape, which also carries v1.0's properties)."""
    timeline = sorted(facts, key=lambda f: f.at_us)
    parts = [part for part in _by_session(timeline) if any(f.kind is FactKind.ENDED for f in part)]
    if not parts:
        raise ValueError("a call record needs at least one session that ended")
    first = parts[0][0]
    caller, callee = first.data["callerUri"], first.data["calleeUri"]
    sessions = [_session(who, n, part) for n, part in enumerate(parts)]
    return {
        "@odata.type": f"{NS}.callRecord",
        "id": record_id(who.tenant_id, who.call_id),
        "version": version,
        "type": "peerToPeer",
        "modalities": list(dict.fromkeys(m for session in sessions for m in session["modalities"])),
        "startDateTime": graph_timestamp(first.at_us),
        "endDateTime": graph_timestamp(max(_one(part, FactKind.ENDED).at_us for part in parts)),
        "lastModifiedDateTime": graph_timestamp(modified_us),
        "joinWebUrl": None,
        "organizer": _identity_set(who, caller),
        "participants": [_identity_set(who, uri) for uri in (caller, callee)],
        "organizer_v2": _participant(who, caller, "organizer"),
        "participants_v2": [_participant(who, uri, "participant") for uri in (caller, callee)],
        "sessions": sessions,
    }


def _by_session(timeline: Sequence[Fact]) -> list[list[Fact]]:
    """The timeline cut at each invitation: the facts of each session in turn."""
    parts: list[list[Fact]] = []
    for fact in timeline:
        if fact.kind is FactKind.INVITED or not parts:
            parts.append([])
        parts[-1].append(fact)
    return parts


def _session(who: CallIdentity, number: int, timeline: Sequence[Fact]) -> dict[str, Any]:
    invited, ended = _one(timeline, FactKind.INVITED), _one(timeline, FactKind.ENDED)
    answered = next((f for f in timeline if f.kind is FactKind.ANSWERED), None)
    feedback = {f.app: f.data for f in timeline if f.kind is FactKind.FEEDBACK}  # the latest per side wins
    caller = _endpoint(who, invited.data["callerUri"], invited.data["userAgent"], feedback.get(invited.app))
    agent = answered.data["userAgent"] if answered else None
    callee = _endpoint(who, invited.data["calleeUri"], agent, feedback.get(answered.app) if answered else None)
    outcome = ended.data.get("outcome") or ""
    failure = None if answered else _failure("callSetup", SETUP_FAILURES.get(outcome, "Ended"))
    if answered and outcome == "CallTerminated":
        failure = _failure("midcall", "ConnectionLost")  # one side went silent and the call was ended
    stretches: list[tuple[int, int, list[str]]] = (
        [(invited.at_us, ended.at_us, [])] if answered is None else _stretches(timeline, answered, ended)
    )
    reports = Reports(timeline, invited.app, answered.app if answered else None)
    last = len(stretches) - 1
    base = f"{record_id(who.tenant_id, who.call_id)}/session" + (f"/{number}" if number else "")
    segments = [  # a call that failed mid-call failed in its last segment
        _segment(
            f"{base}/segment/{n}" if number else _first_session_segment(who, n),
            start,
            end,
            caller,
            callee,
            failure if n == last or not answered else None,
            reports.media(modalities, start, end, n == last),
        )
        for n, (start, end, modalities) in enumerate(stretches)
    ]
    modalities = _union(m for _, _, media in stretches for m in media)
    return {
        "@odata.type": f"{NS}.session",
        "id": name_guid(base),
        "modalities": modalities,
        "isTest": invited.data["calleeUri"] in who.test_targets,
        "startDateTime": graph_timestamp(invited.at_us),
        "endDateTime": graph_timestamp(ended.at_us),
        "caller": caller,
        "callee": callee,
        "failureInfo": failure,
        "segments": segments,
    }


def _first_session_segment(who: CallIdentity, number: int) -> str:
    """The first session's segments keep the names they had before calls had more than one session."""
    return f"{record_id(who.tenant_id, who.call_id)}/segment/{number}"


def _stretches(timeline: Sequence[Fact], answered: Fact, ended: Fact) -> list[tuple[int, int, list[str]]]:
    """(start, end, modalities) of each stretch of stable media between the answer and the end."""
    changes = [
        answered,
        *(f for f in timeline if f.kind is FactKind.MEDIA and answered.at_us <= f.at_us <= ended.at_us),
    ]
    bounds = [*(f.at_us for f in changes[1:]), ended.at_us]
    return [(change.at_us, end, list(change.data["modalities"])) for change, end in zip(changes, bounds, strict=True)]


def _segment(
    name: str,
    start: int,
    end: int,
    caller: dict[str, Any],
    callee: dict[str, Any],
    failure: dict[str, Any] | None,
    media: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "@odata.type": f"{NS}.segment",
        "id": name_guid(name),
        "startDateTime": graph_timestamp(start),
        "endDateTime": graph_timestamp(end),
        "caller": caller,
        "callee": callee,
        "failureInfo": failure,
        "media": media,
    }


class Reports:
    """The quality reports of both sides, cut to segments (`media_quality` documents the rules)."""

    def __init__(self, timeline: Sequence[Fact], caller_app: str | None, callee_app: str | None) -> None:
        quality = [f for f in timeline if f.kind is FactKind.QUALITY]
        self._sides = {"caller": caller_app, "callee": callee_app}
        self._by_side = {side: [f for f in quality if f.app == app] for side, app in self._sides.items()}

    def media(self, modalities: Sequence[str], start: int, end: int, last: bool) -> list[dict[str, Any]]:
        """The `media` of a segment: one per modality, with the streams reports describe."""
        inside = {side: self._within(side, start, end, last) for side in self._sides}
        before = {side: self._before(side, start) for side in self._sides}
        media = []
        for modality in modalities:
            item: dict[str, Any] = {"@odata.type": f"{NS}.media", "label": MEDIA_LABELS[modality], "streams": []}
            kind = KINDS.get(modality)
            for direction, sender, receiver in STREAMS:
                metrics = stream_metrics(inside[receiver], before[receiver], inside[sender], kind) if kind else {}
                if metrics:
                    stream = {"@odata.type": f"{NS}.mediaStream", "streamDirection": direction, **metrics}
                    item["streams"].append(
                        stream | {"startDateTime": graph_timestamp(start), "endDateTime": graph_timestamp(end)}
                    )
            for side in self._sides:
                item |= _device_and_network(side, inside[side])
            media.append(item)
        return media

    def _within(self, side: str, start: int, end: int, last: bool) -> list[dict[str, Any]]:
        return [f.data for f in self._by_side[side] if start < f.at_us and (last or f.at_us <= end)]

    def _before(self, side: str, start: int) -> dict[str, Any] | None:
        earlier = [f.data for f in self._by_side[side] if f.at_us <= start]
        return earlier[-1] if earlier else None


def _device_and_network(side: str, reports: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """`{side}Device` / `{side}Network` from the latest report that has them."""
    found: dict[str, Any] = {}
    device = next((r["device"] for r in reversed(reports) if r.get("device")), None)
    if device:
        found[f"{side}Device"] = {"@odata.type": f"{NS}.deviceInfo", **device}
    network = next((r["network"] for r in reversed(reports) if r.get("network")), None)
    if network is not None:
        found[f"{side}Network"] = {
            "@odata.type": f"{NS}.networkInfo",
            "connectionType": "unknown",
            "networkTransportProtocol": "unknown",
            "wifiBand": "unknown",
            "wifiRadioType": "unknown",
            "traceRouteHops": [],
            **network,
        }
    return found


def _endpoint(who: CallIdentity, uri: str, agent: str | None, feedback: Mapping[str, Any] | None) -> dict[str, Any]:
    endpoint: dict[str, Any] = {
        "@odata.type": f"{NS}.participantEndpoint",
        "associatedIdentity": {
            "@odata.type": f"{NS}.userIdentity",
            **_identity(who, uri),
            "userPrincipalName": uri.removeprefix("sip:"),
        },
        "identity": {"@odata.type": "#microsoft.graph.communicationsIdentitySet", "user": _identity(who, uri)},
        "userAgent": None if agent is None else {"@odata.type": f"{NS}.clientUserAgent", **client_user_agent(agent)},
        "feedback": None,
    }
    if feedback is not None:
        endpoint["feedback"] = {
            "@odata.type": f"{NS}.userFeedback",
            "rating": feedback["rating"],
            "text": feedback.get("text"),
            "tokens": {"@odata.type": f"{NS}.feedbackTokenSet", **feedback.get("tokens", {})},
        }
    return endpoint


def _participant(who: CallIdentity, uri: str, kind: str) -> dict[str, Any]:
    identity = _identity(who, uri)
    return {
        "@odata.type": f"{NS}.{kind}",
        "id": identity["id"],
        "identity": {"@odata.type": "#microsoft.graph.communicationsIdentitySet", "user": identity},
        "administrativeUnitInfos": [],
    }


def _identity_set(who: CallIdentity, uri: str) -> dict[str, Any]:
    return {"@odata.type": "#microsoft.graph.identitySet", "user": _identity(who, uri)}


def _identity(who: CallIdentity, uri: str) -> dict[str, Any]:
    name = who.names.get(uri) or default_name(uri)
    return {
        "@odata.type": "#microsoft.graph.identity",
        "id": user_id(uri),
        "displayName": name,
        "tenantId": who.tenant_id,
    }


def _failure(stage: str, reason: str) -> dict[str, Any]:
    return {"@odata.type": f"{NS}.failureInfo", "stage": stage, "reason": reason}


def _union(modalities: Any) -> list[str]:
    seen: list[str] = []
    for modality in modalities:
        if GRAPH_MODALITIES[modality] not in seen:
            seen.append(GRAPH_MODALITIES[modality])
    return seen


def _one(timeline: Sequence[Fact], kind: FactKind) -> Fact:
    found = [f for f in timeline if f.kind is kind]
    if len(found) != 1:
        raise ValueError(f"a finished session has exactly one {kind} fact, not {len(found)}")
    return found[0]
