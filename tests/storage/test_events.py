"""The events store: ids only grow, so a channel never skips an event stored after its acknowledgement."""

from __future__ import annotations

from callscope.app import Services
from callscope.domain.applications import Application
from callscope.domain.events import Channel, Event, EventType, Priority
from callscope.storage import applications
from callscope.storage import events as store


def _event(target_key: str) -> Event:
    return Event("me", "", EventType.UPDATED, "presence", target_key, Priority.HIGH)


def test_an_id_freed_by_forgetting_the_newest_event_is_never_given_again(services: Services) -> None:
    with services.engine.begin() as conn:
        store.append(conn, "t", "a", [_event("1")])
        store.append(conn, "t", "b", [_event("2")])
        acknowledged = store.list_between(conn, "t", "b", 0, None)[-1].id
        store.forget_upto(conn, "t", "b", acknowledged)  # b's client acknowledged its newest event
        store.append(conn, "t", "b", [_event("3")])
        # b's channel asks for what came after its acknowledged id: the new event must be there.
        assert [e.target_key for e in store.list_between(conn, "t", "b", acknowledged, None)] == ["3"]


def test_ids_keep_growing_after_every_event_has_been_forgotten(services: Services) -> None:
    with services.engine.begin() as conn:
        store.append(conn, "t", "a", [_event("1"), _event("2")])
        newest = store.list_between(conn, "t", "a", 0, None)[-1].id
        store.forget_upto(conn, "t", "a", newest)
    with services.engine.begin() as conn:
        store.append(conn, "t", "a", [_event("3")])
        assert [e.id > newest for e in store.list_between(conn, "t", "a", 0, None)] == [True]


def test_a_channel_moves_on_only_from_the_batch_it_was_found_at(services: Services) -> None:
    with services.engine.begin() as conn:
        applications.insert_one(conn, Application("t", "a", "sip:a@x", "ua", "e", "en", None, 0, 0))
        assert applications.advance_channel(conn, "t", "a", 0, Channel(1, 7, 0))
        assert not applications.advance_channel(conn, "t", "a", 0, Channel(1, 9, 0))  # another P-GET moved it
        found = applications.find(conn, "t", "a")
        assert found is not None and found.channel == Channel(1, 7, 0)
