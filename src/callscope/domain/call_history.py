"""What happened in a call, as facts in time order: the input of its call record.

Every stored change of a call is compared with the call before it; what differs becomes facts:

    invited   the caller's application sent an invitation (its user agent, the offered media):
              the first starts the conversation, each later one (addAudioVideo) a new session
    answered  a device of the callee accepted (its user agent, the media both sides agreed on)
    media     an accepted renegotiation changed the media or put the call on or off hold
    ended     the session ended, and how (hung up, declined, cancelled, unanswered, unreachable)
    feedback  one side published call-quality feedback (also after the end)
    quality   one side sent a getStats() report (added by the calls service, not found here)

The facts of one session are those from its `invited` fact up to the next one.

Facts are never changed once written; the record is a fold over them (`record_assembly`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from callscope.domain.calls import LIVE, Call, CallState
from callscope.domain.negotiation import summarize


class FactKind(StrEnum):
    """The kinds of facts a call produces."""

    INVITED = "invited"
    ANSWERED = "answered"
    MEDIA = "media"
    ENDED = "ended"
    FEEDBACK = "feedback"
    QUALITY = "quality"


@dataclass(frozen=True)
class Fact:
    """One thing that happened in a call, at a moment, by an application (if one did it)."""

    kind: FactKind
    at_us: int
    app: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def facts(before: Call | None, after: Call, now_us: int, agents: Mapping[str, str]) -> list[Fact]:
    """The facts a change from `before` (None: the call is new) to `after` adds; `agents` by application."""
    found: list[Fact] = []
    if before is None or before.session_number != after.session_number:
        found.append(_invited(after, agents))
        before = _unstarted(after)
    if before.state is CallState.RINGING and after.state is CallState.ESTABLISHED:
        found.append(_answered(after, agents))
    if _media_changed(before, after):
        found.append(Fact(FactKind.MEDIA, now_us, data={"modalities": list(after.modalities), "held": _held(after)}))
    for app_id, given in after.feedback.items():
        if before.feedback.get(app_id) != given:
            found.append(Fact(FactKind.FEEDBACK, now_us, app_id, dict(given)))
    if before.state in LIVE and after.state not in LIVE:
        outcome = after.outcome.value if after.outcome else None
        found.append(Fact(FactKind.ENDED, after.ended_us or now_us, data={"outcome": outcome}))
    return found


def agents_needed(before: Call | None, after: Call) -> tuple[str, ...]:
    """The applications whose user agents `facts` will read for this change (invitation, answer)."""
    new_session = before is None or before.session_number != after.session_number
    needed = [after.caller_app] if new_session else []
    if (
        after.answered_by
        and (new_session or (before is not None and before.state is CallState.RINGING))
        and after.state is not CallState.RINGING
    ):
        needed.append(after.answered_by)
    return tuple(needed)


def _unstarted(call: Call) -> Call:
    return replace(call, state=CallState.RINGING, feedback={}, held_by=None)


def _invited(call: Call, agents: Mapping[str, str]) -> Fact:
    data = {
        "callerUri": call.caller_uri,
        "calleeUri": call.callee_uri,
        "userAgent": agents.get(call.caller_app, ""),
        "modalities": list(call.modalities),
        "subject": call.subject,
    }
    return Fact(FactKind.INVITED, call.created_us, call.caller_app, data)


def _answered(call: Call, agents: Mapping[str, str]) -> Fact:
    app_id = str(call.answered_by)
    agreed = summarize(call.answer_sdp).modalities if call.answer_sdp else call.modalities
    modalities = [m for m in call.modalities if m in agreed]
    data = {"userAgent": agents.get(app_id, ""), "modalities": modalities, "held": False}
    return Fact(FactKind.ANSWERED, call.connected_us or call.created_us, app_id, data)


def _media_changed(before: Call, after: Call) -> bool:
    if before.state is not CallState.ESTABLISHED or after.state is not CallState.ESTABLISHED:
        return False
    return (before.modalities, _held(before)) != (after.modalities, _held(after))


def _held(call: Call) -> bool:
    return call.held_by is not None
