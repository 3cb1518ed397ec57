"""The events store: ids only grow, so a channel never skips an event stored after its acknowledgement."""

from __future__ import annotations

from callscope.app import Services
from callscope.domain.events import Event, EventType, Priority
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
