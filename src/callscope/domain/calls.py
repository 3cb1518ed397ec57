"""An audio/video call between two users: its state machine and what each side sees of it.

States (one transition table):

    Ringing ──accept──▶ Established ──DELETE conversation──▶ Ended
       │                    └──stopAudioVideo──▶ Idle ──addAudioVideo──▶ Ringing (the next session)
       └──decline / cancel / no answer / nobody available──▶ Ended (first session) or Idle (later ones)

A call is one conversation between two users. Each invitation starts one audio/video session in
it; `stopAudioVideo` ends the session but keeps the conversation (Idle), where either side may
start the next session with `addAudioVideo`; leaving the conversation (DELETE) ends everything.
The snapshots here are the resources as one side sees them; `call_events` turns them into events.

Every application involved sees the call through its own resources: the invitation (outgoing for
the caller's application, incoming for each available application of the callee), the
conversation, its audioVideo modality and, once established, the audioVideoSession.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from callscope.domain.integers import non_negative
from callscope.errors import Conflict, InvalidRequest, NotFound


class CallState(StrEnum):
    """Where a call is."""

    RINGING = "Ringing"
    ESTABLISHED = "Established"
    IDLE = "Idle"  # the conversation goes on without audio/video
    ENDED = "Ended"


TRANSITIONS: Mapping[CallState, frozenset[CallState]] = {
    CallState.RINGING: frozenset({CallState.ESTABLISHED, CallState.IDLE, CallState.ENDED}),
    CallState.ESTABLISHED: frozenset({CallState.IDLE, CallState.ENDED}),
    CallState.IDLE: frozenset({CallState.RINGING, CallState.ENDED}),
    CallState.ENDED: frozenset(),
}
LIVE = frozenset({CallState.RINGING, CallState.ESTABLISHED})  # an audio/video session is under way


class Outcome(StrEnum):
    """Why a call ended; the subcodes are UCWA's."""

    DECLINED = "Declined"
    CANCELED = "Canceled"
    NO_ANSWER = "Timeout"
    UNAVAILABLE = "TemporarilyUnavailable"
    HUNG_UP = "Ended"
    DROPPED = "CallTerminated"  # one side's application stopped being heard from mid-call


@dataclass(frozen=True)
class Renegotiation:
    """A new offer from one side of an established call, waiting for the other side's answer."""

    id: str
    offerer: str  # application id
    offer_sdp: str
    operation_id: str | None
    held: bool  # the offer puts the call on hold (every section sendonly or inactive)
    modalities: tuple[str, ...]


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
    renegotiation: Renegotiation | None = None
    held_by: str | None = None  # the application that put the call on hold
    feedback: dict[str, dict[str, Any]] = field(default_factory=dict)  # by application id
    revision: int = 0  # bumped by every stored change
    provisional_sdp: str | None = None  # early-media answer from a ringing device
    session_number: int = 0  # which audio/video session of the conversation this is (0: the first)

    def sees(self, application_id: str) -> bool:
        """Whether an application is part of this call."""
        return application_id == self.caller_app or application_id in self.offered

    def peer(self) -> str | None:
        """The caller's partner in the conversation: who answered, or the only one a later session rings."""
        if self.answered_by is not None:
            return self.answered_by
        return self.offered[0] if self.session_number > 0 and self.offered else None

    def after_session(self) -> CallState:
        """Where an unanswered session leaves the call: the first ends it, a later one leaves it Idle."""
        return CallState.IDLE if self.session_number > 0 else CallState.ENDED


def invitation_id(call: Call) -> str:
    """The id of the current session's invitation: the call's id, `-n` added for the n-th later session."""
    return call.id if call.session_number == 0 else f"{call.id}-{call.session_number}"


def parse_invitation(key: str) -> tuple[str, int]:
    """(call id, session number) of an invitation id; NotFound for one that cannot be."""
    call_id, dash, number = key.partition("-")
    if not dash:
        return call_id, 0
    session_number = non_negative(number)
    if session_number is None or number[0] == "0":
        raise NotFound("No such invitation.", subcode="ResourceNotFound")
    return call_id, session_number


def add_audio_video(call: Call, application_id: str, offer: Call) -> Call:
    """addAudioVideo: one side of an Idle conversation invites the other to a new audio/video session.

    `offer` carries the new invitation's inputs (offer_sdp, modalities, operation_id, caller_context,
    created_us); the rest of the call is the conversation's.
    """
    peer = call.peer()
    if call.state is not CallState.IDLE or application_id not in (call.caller_app, peer):
        raise Conflict(
            f"The conversation is {call.state}; audio/video can be added only when it has none.",
            subcode="AnotherOperationPending",
        )
    other = peer if application_id == call.caller_app else call.caller_app
    uris = (
        (call.caller_uri, call.callee_uri) if application_id == call.caller_app else (call.callee_uri, call.caller_uri)
    )
    return replace(
        call,
        state=CallState.RINGING,
        caller_app=application_id,
        caller_uri=uris[0],
        callee_uri=uris[1],
        offered=(str(other),),
        offer_sdp=offer.offer_sdp,
        modalities=offer.modalities,
        operation_id=offer.operation_id,
        caller_context=offer.caller_context,
        created_us=offer.created_us,
        session_number=call.session_number + 1,
        answered_by=None,
        callee_context=None,
        answer_sdp=None,
        outcome=None,
        connected_us=None,
        ended_us=None,
        renegotiation=None,
        held_by=None,
        feedback={},
        provisional_sdp=None,
    )


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
    elif call.state is CallState.ESTABLISHED or call.answered_by == application_id or call.connected_us is not None:
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
        CallState.IDLE: "Connected",
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
    """The audioVideo modality snapshot; `canAdd` while the conversation goes on without it."""
    state = {CallState.RINGING: "Connecting", CallState.ESTABLISHED: "Connected"}.get(call.state, "Disconnected")
    return {"state": state, "established": call.state is CallState.ESTABLISHED, "canAdd": call.state is CallState.IDLE}


def session(call: Call, application_id: str) -> dict[str, Any]:
    """The audioVideoSession snapshot for one side of an established call."""
    outgoing = application_id == call.caller_app
    return {
        "state": "Established",
        "sessionContext": call.caller_context if outgoing else call.callee_context,
        "remoteEndpoint": call.callee_uri if outgoing else call.caller_uri,
        "heldHere": call.held_by == application_id,
        "modalities": list(call.modalities),
    }


def other_side(call: Call, application_id: str) -> str:
    """The application at the other end of an established call."""
    return str(call.answered_by) if application_id == call.caller_app else call.caller_app


def offer(call: Call, application_id: str, renegotiation: Renegotiation, resume: bool) -> Call:
    """A new offer (renegotiation, hold, or resume) from one side; one at a time."""
    if call.state is not CallState.ESTABLISHED or application_id not in (call.caller_app, call.answered_by):
        raise Conflict(f"The call is {call.state}, not established.", subcode="AnotherOperationPending")
    if call.renegotiation is not None:
        raise Conflict("Another renegotiation is already in progress.", subcode="AlreadyExists")
    if resume and call.held_by != application_id:
        raise Conflict("Only the side that put the call on hold can resume it.", subcode="OperationNotSupported")
    return replace(call, renegotiation=renegotiation)


def settle(call: Call, application_id: str, accepted: bool) -> Call:
    """The other side answers (accepted) or dismisses the pending offer."""
    pending = call.renegotiation
    if pending is None or call.state is not CallState.ESTABLISHED:
        raise Conflict("There is no renegotiation to answer.", subcode="AnotherOperationPending")
    if application_id != other_side(call, pending.offerer):
        raise Conflict("Only the other side answers an offer.", subcode="OperationNotSupported")
    if not accepted:
        return replace(call, renegotiation=None)
    return replace(
        call, renegotiation=None, modalities=pending.modalities, held_by=pending.offerer if pending.held else None
    )


def renegotiation(call: Call, pending: Renegotiation, application_id: str, answer_sdp: str | None) -> dict[str, Any]:
    """The audioVideoRenegotiation as one side sees it."""
    incoming = application_id != pending.offerer
    return {
        "id": pending.id,
        "direction": "Incoming" if incoming else "Outgoing",
        "operationId": pending.operation_id,
        "mediaOffer": pending.offer_sdp,
        "mediaAnswer": answer_sdp,
        "actions": ["answer", "dismiss"] if incoming and call.renegotiation == pending else [],
    }


def reason(outcome: Outcome, for_caller: bool) -> dict[str, str]:
    """The `reason` of a failed invitation, in UCWA's error shape."""
    messages = {
        Outcome.DECLINED: "The invitation was declined.",
        Outcome.CANCELED: "The caller cancelled the call.",
        Outcome.NO_ANSWER: "Nobody answered the call.",
        Outcome.UNAVAILABLE: "The person called cannot be reached right now.",
        Outcome.HUNG_UP: "The call ended.",
        Outcome.DROPPED: "The other side stopped responding; the call was ended.",
    }
    code = "RemoteFailure" if for_caller and outcome is not Outcome.CANCELED else "LocalFailure"
    return {"code": code, "subcode": outcome.value, "message": messages[outcome]}


RATINGS = ("notRated", "bad", "poor", "fair", "good", "excellent")


def feedback(values: Mapping[str, Any]) -> dict[str, Any]:
    """publishCallQualityFeedback's inputs as they will become the endpoint's `feedback` in the record.

    `rating` uses Graph's userFeedbackRating values; `tokens` maps feedback tokens to booleans (a name
    starting with `@` would be an annotation of the token set, such as its `@odata.type`: refused);
    UCWA's own `mediaEndpoint` and `mediaQualityOfExperience` are kept as given.
    """
    rating = str(values.get("rating") or "notRated")
    by_lower = {r.lower(): r for r in RATINGS}
    tokens = values.get("tokens") or {}
    faults = []
    if rating.lower() not in by_lower:
        faults.append({"name": "rating", "reason": "Invalid"})
    if not isinstance(tokens, dict) or not all(isinstance(v, bool) and k[:1] != "@" for k, v in tokens.items()):
        faults.append({"name": "tokens", "reason": "Invalid"})
    text = values.get("text")
    if text is not None and (not isinstance(text, str) or len(text) > 2000):
        faults.append({"name": "text", "reason": "Invalid"})
    if faults:
        raise InvalidRequest("Invalid call quality feedback.", subcode="ParameterValidationFailure", parameters=faults)
    kept = {k: values[k] for k in ("mediaEndpoint", "mediaQualityOfExperience") if values.get(k) is not None}
    return {"rating": by_lower[rating.lower()], "text": text, "tokens": dict(tokens), **kept}


def provisional_answer(call: Call, application_id: str, sdp: str) -> Call:
    """sendProvisionalAnswer: early media from a ringing device of the callee."""
    if call.state is not CallState.RINGING:
        raise Conflict(
            f"The call is {call.state}; early media needs a ringing call.", subcode="AnotherOperationPending"
        )
    if application_id not in call.offered:
        raise Conflict("Only a ringing device of the callee answers provisionally.", subcode="OperationNotSupported")
    return replace(call, provisional_sdp=sdp)
