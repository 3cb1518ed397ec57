"""An audio/video call between two users: its state machine and the events each side sees.

States (one transition table):

    Ringing ──accept──▶ Established ──hang up──▶ Ended
       └──decline / cancel / no answer / nobody available──▶ Ended

Every application involved sees the call through its own resources: the invitation (outgoing for
the caller's application, incoming for each available application of the callee), the
conversation, its audioVideo modality and, once established, the audioVideoSession.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from callscope.domain.events import Event, EventType, Priority
from callscope.errors import Conflict


class CallState(StrEnum):
    """Where a call is."""

    RINGING = "Ringing"
    ESTABLISHED = "Established"
    ENDED = "Ended"


TRANSITIONS: Mapping[CallState, frozenset[CallState]] = {
    CallState.RINGING: frozenset({CallState.ESTABLISHED, CallState.ENDED}),
    CallState.ESTABLISHED: frozenset({CallState.ENDED}),
    CallState.ENDED: frozenset(),
}


class Outcome(StrEnum):
    """Why a call ended; the subcodes are UCWA's."""

    DECLINED = "Declined"
    CANCELED = "Canceled"
    NO_ANSWER = "Timeout"
    UNAVAILABLE = "TemporarilyUnavailable"
    HUNG_UP = "Ended"


@dataclass(frozen=True)
class Call:
    """One call; `offered` holds the callee's applications that were offered it."""

    tenant_id: str
    id: str
    caller_app: str
    caller_uri: str
    callee_uri: str
    subject: str | None
    operation_id: str | None
    caller_context: str | None
    offer_sdp: str
    modalities: tuple[str, ...]
    created_us: int
    offered: tuple[str, ...] = ()
    state: CallState = CallState.RINGING
    answered_by: str | None = None
    callee_context: str | None = None
    answer_sdp: str | None = None
    outcome: Outcome | None = None
    connected_us: int | None = None
    ended_us: int | None = None

    def sees(self, application_id: str) -> bool:
        """Whether an application is part of this call."""
        return application_id == self.caller_app or application_id in self.offered


def transition(call: Call, to: CallState, **changes: Any) -> Call:
    """The call in state `to`; Conflict naming both states when the table forbids it."""
    if to not in TRANSITIONS[call.state]:
        raise Conflict(f"The call cannot go from {call.state} to {to}.", subcode="AnotherOperationPending")
    return replace(call, state=to, **changes)


def invitation(call: Call, application_id: str) -> dict[str, Any]:
    """The invitation as one application sees it (a snapshot for events and GETs)."""
    outgoing = application_id == call.caller_app
    if call.state is CallState.RINGING:
        state = "Connecting"
    elif call.state is CallState.ESTABLISHED or call.answered_by == application_id or call.outcome is Outcome.HUNG_UP:
        state = "Connected"
    else:
        state = {Outcome.DECLINED: "Declined", Outcome.CANCELED: "Cancelled"}.get(call.outcome, "Failed")  # type: ignore[arg-type]
    return {
        "direction": "Outgoing" if outgoing else "Incoming",
        "state": state,
        "operationId": call.operation_id,
        "sessionContext": call.caller_context if outgoing else call.callee_context,
        "to": call.callee_uri,
        "from": call.caller_uri,
        "subject": call.subject,
        "mediaOffer": call.offer_sdp if not outgoing else None,
        "actions": _invitation_actions(call, outgoing),
    }


def _invitation_actions(call: Call, outgoing: bool) -> list[str]:
    if call.state is not CallState.RINGING:
        return []
    return ["cancel"] if outgoing else ["acceptWithAnswer", "decline", "sendProvisionalAnswer"]


def conversation(call: Call, application_id: str) -> dict[str, Any]:
    """The conversation snapshot for one side."""
    outgoing = application_id == call.caller_app
    state = {
        CallState.RINGING: "Connecting" if outgoing else "Incoming",
        CallState.ESTABLISHED: "Connected",
        CallState.ENDED: "Disconnected",
    }[call.state]
    active = list(call.modalities) if call.state is CallState.ESTABLISHED else []
    return {
        "state": state,
        "activeModalities": active,
        "subject": call.subject,
        "remote": call.callee_uri if outgoing else call.caller_uri,
    }


def audio_video(call: Call) -> dict[str, Any]:
    """The audioVideo modality snapshot."""
    state = {CallState.RINGING: "Connecting", CallState.ESTABLISHED: "Connected", CallState.ENDED: "Disconnected"}[
        call.state
    ]
    return {"state": state, "established": call.state is CallState.ESTABLISHED}


def session(call: Call, application_id: str) -> dict[str, Any]:
    """The audioVideoSession snapshot for one side of an established call."""
    outgoing = application_id == call.caller_app
    return {
        "state": "Established",
        "sessionContext": call.caller_context if outgoing else call.callee_context,
        "remoteEndpoint": call.callee_uri if outgoing else call.caller_uri,
    }


def reason(outcome: Outcome, for_caller: bool) -> dict[str, str]:
    """The `reason` of a failed invitation, in UCWA's error shape."""
    messages = {
        Outcome.DECLINED: "The invitation was declined.",
        Outcome.CANCELED: "The caller cancelled the call.",
        Outcome.NO_ANSWER: "Nobody answered the call.",
        Outcome.UNAVAILABLE: "The person called cannot be reached right now.",
        Outcome.HUNG_UP: "The call ended.",
    }
    code = "RemoteFailure" if for_caller and outcome is not Outcome.CANCELED else "LocalFailure"
    return {"code": code, "subcode": outcome.value, "message": messages[outcome]}


def _event(
    sender: str,
    type_: EventType,
    target: str,
    call: Call,
    snapshot: dict[str, Any] | None,
    status: str | None = None,
    why: dict[str, str] | None = None,
) -> Event:
    return Event(
        sender,
        "" if sender == "communication" else call.id,
        type_,
        target,
        call.id,
        Priority.HIGH,
        snapshot,
        status,
        why,
    )


def started_events(call: Call, application_id: str) -> list[Event]:
    """What an application sees when the call starts (outgoing) or rings (incoming)."""
    return [
        _event("communication", EventType.STARTED, "audioVideoInvitation", call, invitation(call, application_id)),
        _event("communication", EventType.ADDED, "conversation", call, conversation(call, application_id)),
        _event("conversation", EventType.UPDATED, "audioVideo", call, audio_video(call)),
    ]


def established_events(call: Call, application_id: str) -> list[Event]:
    """What the caller and the answering application see when the call is accepted."""
    return [
        _event(
            "communication",
            EventType.COMPLETED,
            "audioVideoInvitation",
            call,
            invitation(call, application_id),
            "Success",
        ),
        _event("communication", EventType.ADDED, "audioVideoSession", call, session(call, application_id)),
        _event("conversation", EventType.UPDATED, "audioVideo", call, audio_video(call)),
        _event("communication", EventType.UPDATED, "conversation", call, conversation(call, application_id)),
    ]


def failed_events(call: Call, application_id: str, why: dict[str, str]) -> list[Event]:
    """What an application sees when the call it was part of never got established."""
    return [
        _event(
            "communication",
            EventType.COMPLETED,
            "audioVideoInvitation",
            call,
            invitation(call, application_id),
            "Failure",
            why,
        ),
        _event("conversation", EventType.UPDATED, "audioVideo", call, audio_video(call)),
        _event("communication", EventType.DELETED, "conversation", call, None),
    ]


def ended_events(call: Call, application_id: str) -> list[Event]:
    """What each side of an established call sees when it is hung up."""
    return [
        _event("communication", EventType.DELETED, "audioVideoSession", call, None),
        _event("conversation", EventType.UPDATED, "audioVideo", call, audio_video(call)),
        _event("communication", EventType.DELETED, "conversation", call, None),
    ]
