"""The events store: ids only grow, so a channel never skips an event stored after its acknowledgement; the sweep
drops exactly the events each application's client has acknowledged."""

from __future__ import annotations

from sqlalchemy import Connection

from callscope.app import Services
from callscope.domain.applications import Application
from callscope.domain.events import Channel, Event, EventType, Priority
from callscope.storage import applications
from callscope.storage import events as store


def _event(target_key: str) -> Event:
    return Event("me", "", EventType.UPDATED, "presence", target_key, Priority.HIGH)


def _application(conn: Connection, application_id: str) -> None:
    applications.insert_one(
        conn, Application("t", application_id, f"sip:{application_id}@x", "ua", "e", "en", None, 0, 0)
    )


def _acknowledge(conn: Connection, application_id: str, upto_id: int) -> None:
    """The application's client acknowledged every event up to `upto_id` (its channel's first batch)."""
    assert applications.advance_channel(conn, "t", application_id, 0, Channel(1, upto_id, upto_id))


def test_an_id_freed_by_forgetting_the_newest_event_is_never_given_again(services: Services) -> None:
    with services.engine.begin() as conn:
        _application(conn, "a")
        _application(conn, "b")
        store.append(conn, "t", "a", [_event("1")])
        store.append(conn, "t", "b", [_event("2")])
        acknowledged = store.list_between(conn, "t", "b", 0, None)[-1].id
        _acknowledge(conn, "b", acknowledged)  # b's client acknowledged its newest event
        assert store.forget_acknowledged(conn) == 1
        store.append(conn, "t", "b", [_event("3")])
        # b's channel asks for what came after its acknowledged id: the new event must be there.
        assert [e.target_key for e in store.list_between(conn, "t", "b", acknowledged, None)] == ["3"]


def test_ids_keep_growing_after_every_event_has_been_forgotten(services: Services) -> None:
    with services.engine.begin() as conn:
        _application(conn, "a")
        store.append(conn, "t", "a", [_event("1"), _event("2")])
        newest = store.list_between(conn, "t", "a", 0, None)[-1].id
        _acknowledge(conn, "a", newest)
        assert store.forget_acknowledged(conn) == 2
    with services.engine.begin() as conn:
        store.append(conn, "t", "a", [_event("3")])
        assert [e.id > newest for e in store.list_between(conn, "t", "a", 0, None)] == [True]


def test_the_sweep_drops_only_what_each_client_acknowledged(services: Services) -> None:
    with services.engine.begin() as conn:
        for application_id in ("c", "a", "b"):  # c's events are older than a's and b's
            _application(conn, application_id)
            store.append(conn, "t", application_id, [_event(f"{application_id}1"), _event(f"{application_id}2")])
        first_of_a = store.list_between(conn, "t", "a", 0, None)[0].id
        _acknowledge(conn, "a", first_of_a)  # a acknowledged its first event, c none of its own
        newest_of_b = store.list_between(conn, "t", "b", 0, None)[-1].id
        _acknowledge(conn, "b", newest_of_b)  # b acknowledged both of its events
        assert store.forget_acknowledged(conn) == 3
        assert store.forget_acknowledged(conn) == 0
        left = {a: [e.target_key for e in store.list_between(conn, "t", a, 0, None)] for a in ("a", "b", "c")}
    assert left == {"a": ["a2"], "b": [], "c": ["c1", "c2"]}


def test_a_channel_moves_on_only_from_the_batch_it_was_found_at(services: Services) -> None:
    with services.engine.begin() as conn:
        applications.insert_one(conn, Application("t", "a", "sip:a@x", "ua", "e", "en", None, 0, 0))
        assert applications.advance_channel(conn, "t", "a", 0, Channel(1, 7, 0))
        assert not applications.advance_channel(conn, "t", "a", 0, Channel(1, 9, 0))  # another P-GET moved it
        found = applications.find(conn, "t", "a")
        assert found is not None and found.channel == Channel(1, 7, 0)
