"""Facts from the changes of a call."""

from __future__ import annotations

from dataclasses import replace

import pytest

from callscope.domain.call_history import FactKind, agents_needed, facts
from callscope.domain.calls import (
    Call,
    CallState,
    Outcome,
    add_audio_video,
    invitation_id,
    parse_invitation,
    transition,
)
from callscope.errors import Conflict, NotFound
from tests.support.ucwa import sdp_offer

RINGING = Call(
    "t",
    "c1",
    "app-a",
    "sip:a@x",
    "sip:b@x",
    None,
    None,
    None,
    sdp_offer(video=True),
    ("Audio", "Video"),
    100,
    ("app-b",),
)
AGENTS = {"app-a": "agent A", "app-b": "agent B"}


def test_a_new_call_is_invited_and_an_answer_agrees_on_the_media_of_both_sides() -> None:
    (invited,) = facts(None, RINGING, 100, AGENTS)
    assert (invited.kind, invited.app, invited.data["userAgent"]) == (FactKind.INVITED, "app-a", "agent A")
    answered = replace(
        RINGING, state=CallState.ESTABLISHED, answered_by="app-b", answer_sdp=sdp_offer(), connected_us=150
    )
    (fact,) = facts(RINGING, answered, 160, AGENTS)
    assert (fact.kind, fact.at_us, fact.app, fact.data["modalities"]) == (FactKind.ANSWERED, 150, "app-b", ["Audio"])


def test_media_changes_feedback_and_the_end_are_facts_and_nothing_else_is() -> None:
    live = replace(RINGING, state=CallState.ESTABLISHED, answered_by="app-b", answer_sdp=sdp_offer(), connected_us=150)
    assert facts(live, replace(live, revision=3), 200, AGENTS) == []
    held = replace(live, held_by="app-b")
    (hold,) = facts(live, held, 200, AGENTS)
    assert (hold.kind, hold.data) == (FactKind.MEDIA, {"modalities": ["Audio", "Video"], "held": True})
    rated = replace(held, feedback={"app-a": {"rating": "good"}})
    assert [f.kind for f in facts(held, rated, 210, AGENTS)] == [FactKind.FEEDBACK]
    ended = replace(rated, state=CallState.ENDED, outcome=Outcome.HUNG_UP, ended_us=300)
    (end,) = facts(rated, ended, 310, AGENTS)
    assert (end.kind, end.at_us, end.data) == (FactKind.ENDED, 300, {"outcome": "Ended"})


def test_user_agents_are_read_only_for_the_invitation_and_the_answer() -> None:
    answered = replace(RINGING, state=CallState.ESTABLISHED, answered_by="app-b", answer_sdp=sdp_offer())
    assert agents_needed(None, RINGING) == ("app-a",)
    assert agents_needed(RINGING, answered) == ("app-b",)
    assert agents_needed(answered, replace(answered, held_by="app-b")) == ()
    assert agents_needed(RINGING, replace(RINGING, state=CallState.ENDED, outcome=Outcome.DECLINED)) == ()


def test_stopping_ends_the_session_and_adding_audio_video_invites_again_from_either_side() -> None:
    live = replace(RINGING, state=CallState.ESTABLISHED, answered_by="app-b", answer_sdp=sdp_offer(), connected_us=150)
    idle = transition(live, CallState.IDLE, outcome=Outcome.HUNG_UP, ended_us=300)
    (end,) = facts(live, idle, 310, AGENTS)
    assert (end.kind, end.at_us) == (FactKind.ENDED, 300)
    offer = replace(idle, offer_sdp=sdp_offer(), modalities=("Audio",), operation_id="op-2", created_us=400)
    again = add_audio_video(idle, "app-b", offer)
    assert (again.caller_app, again.caller_uri, again.callee_uri, again.offered) == (
        "app-b",
        "sip:b@x",
        "sip:a@x",
        ("app-a",),
    )
    assert (again.session_number, again.answered_by, again.connected_us, invitation_id(again)) == (
        1,
        None,
        None,
        "c1-1",
    )
    assert agents_needed(idle, again) == ("app-b",)
    (invited,) = facts(idle, again, 400, AGENTS)
    assert (invited.kind, invited.at_us, invited.app, invited.data["calleeUri"]) == (
        FactKind.INVITED,
        400,
        "app-b",
        "sip:a@x",
    )
    declined = transition(again, again.after_session(), outcome=Outcome.DECLINED, ended_us=410)
    assert declined.state is CallState.IDLE and declined.peer() == "app-a"
    assert [f.kind for f in facts(again, declined, 420, AGENTS)] == [FactKind.ENDED]
    assert facts(declined, transition(declined, CallState.ENDED), 500, AGENTS) == []  # leaving adds nothing


def test_only_an_idle_conversation_takes_audio_video_and_only_from_its_two_sides() -> None:
    live = replace(RINGING, state=CallState.ESTABLISHED, answered_by="app-b", connected_us=150)
    with pytest.raises(Conflict):
        add_audio_video(live, "app-a", live)
    with pytest.raises(Conflict):
        add_audio_video(replace(live, state=CallState.IDLE), "app-c", live)
    assert parse_invitation("c1") == ("c1", 0) and parse_invitation("c1-12") == ("c1", 12)
    for bad in ("c1-", "c1-01", "c1-x", "c1--1", "c1-\u00b2", "c1-" + "9" * 5000):  # the last two were 500s
        with pytest.raises(NotFound):
            parse_invitation(bad)
