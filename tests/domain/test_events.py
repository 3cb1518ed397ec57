"""Events of the event channel, as values."""

from __future__ import annotations

import msgspec

from callscope.domain.events import Event, EventType, Priority


def test_stamping_an_event_sets_its_moment_and_keeps_everything_else() -> None:
    event = Event(
        "conversation", "c1", EventType.UPDATED, "audioVideo", "c1", Priority.HIGH, {"state": "Connected"}, "Success"
    )
    stamped = event.stamped(1_764_000_000_000_000)
    assert stamped.created_us == 1_764_000_000_000_000 and event.created_us == 0
    assert msgspec.structs.asdict(stamped) == {**msgspec.structs.asdict(event), "created_us": 1_764_000_000_000_000}
