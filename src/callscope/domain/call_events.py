"""What each application sees of a call's changes: the events for its event channel.

Every function here takes the call after a change and gives one side's events; the resources
they embed are the snapshots of `calls`, so an event and a GET show the same thing.
"""

from __future__ import annotations

from typing import Any

from callscope.domain.calls import (
    Call,
    CallState,
    Renegotiation,
    audio_video,
    conversation,
    invitation,
    invitation_id,
    renegotiation,
    session,
)
from callscope.domain.events import Event, EventType, Priority


def renegotiation_events(
    call: Call, pending: Renegotiation, type_: EventType, status: str | None = None, answer_sdp: str | None = None
) -> dict[str, list[Event]]:
    """What both sides see of a renegotiation (started or completed); completion updates the session."""
    sides = (call.caller_app, str(call.answered_by))
    events: dict[str, list[Event]] = {}
    for side in sides:
        snapshot = renegotiation(call, pending, side, answer_sdp)
        item = Event(
            "communication",
            "",
            type_,
            "audioVideoRenegotiation",
            f"{call.id}/{pending.id}",
            Priority.HIGH,
            snapshot,
            status,
        )
        events[side] = [item]
        if type_ is EventType.COMPLETED:
            events[side].append(
                _event("communication", EventType.UPDATED, "audioVideoSession", call, session(call, side))
            )
    return events


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
        invitation_id(call) if target == "audioVideoInvitation" else call.id,
        Priority.HIGH,
        snapshot,
        status,
        why,
    )


def started_events(call: Call, application_id: str) -> list[Event]:
    """What an application sees when the call starts (outgoing) or rings (incoming)."""
    return [
        _event("communication", EventType.STARTED, "audioVideoInvitation", call, invitation(call, application_id)),
        _conversation_event(call, application_id, EventType.ADDED if call.session_number == 0 else EventType.UPDATED),
        _event("conversation", EventType.UPDATED, "audioVideo", call, audio_video(call)),
    ]


def _invitation_completed(call: Call, application_id: str, status: str, why: dict[str, str] | None) -> Event:
    snapshot = invitation(call, application_id)
    return _event("communication", EventType.COMPLETED, "audioVideoInvitation", call, snapshot, status, why)


def established_events(call: Call, application_id: str) -> list[Event]:
    """What the caller and the answering application see when the call is accepted."""
    return [
        _invitation_completed(call, application_id, "Success", None),
        _event("communication", EventType.ADDED, "audioVideoSession", call, session(call, application_id)),
        _event("conversation", EventType.UPDATED, "audioVideo", call, audio_video(call)),
        _event("communication", EventType.UPDATED, "conversation", call, conversation(call, application_id)),
    ]


def failed_events(call: Call, application_id: str, why: dict[str, str]) -> list[Event]:
    """What an application sees when a session it was part of never got established."""
    return [
        _invitation_completed(call, application_id, "Failure", why),
        _event("conversation", EventType.UPDATED, "audioVideo", call, audio_video(call)),
        _conversation_event(call, application_id),
    ]


def ended_events(call: Call, application_id: str) -> list[Event]:
    """What each side sees when an established session ends (the conversation with it, unless Idle)."""
    return [
        _event("communication", EventType.DELETED, "audioVideoSession", call, None),
        _event("conversation", EventType.UPDATED, "audioVideo", call, audio_video(call)),
        _conversation_event(call, application_id),
    ]


def left_events(call: Call, application_id: str) -> list[Event]:
    """What each side sees when an Idle conversation is left."""
    return [_conversation_event(call, application_id)]


def _conversation_event(call: Call, application_id: str, type_: EventType | None = None) -> Event:
    """The conversation deleted once the call ended, else updated (or `type_`) with its snapshot."""
    if call.state is CallState.ENDED:
        return _event("communication", EventType.DELETED, "conversation", call, None)
    snapshot = conversation(call, application_id)
    return _event("communication", type_ or EventType.UPDATED, "conversation", call, snapshot)


def negotiation_events(call: Call) -> list[Event]:
    """What the caller sees of an early-media answer: its audioVideoNegotiation updated."""
    snapshot = {"mediaProvisionalAnswer": call.provisional_sdp, "sessionContext": call.caller_context}
    return [
        Event(
            "audioVideoInvitation",
            invitation_id(call),
            EventType.UPDATED,
            "audioVideoNegotiation",
            invitation_id(call),
            Priority.HIGH,
            snapshot,
        )
    ]
