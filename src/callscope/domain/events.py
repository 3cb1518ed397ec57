"""UCWA's event channel as pure rules: events, batches, acknowledgement and when to release a P-GET.

A P-GET asks for batch `ack`. Asking for the batch after the last one served acknowledges that
batch (its events are then forgotten) and waits for new events; asking for the last one again
resends it unchanged (its response was lost); any other number is out of range and answered with
a `resync` link to the first unacknowledged batch. Events wait until their batch is acknowledged,
so an application that reconnects within its lifetime loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

import msgspec


class Priority(IntEnum):
    """How soon an event must reach the client: high ones release a parked P-GET at once."""

    LOW = 0
    MEDIUM = 1
    HIGH = 2


class EventType(StrEnum):
    """Resources are added, updated, deleted; operations are started, updated, completed."""

    ADDED = "added"
    UPDATED = "updated"
    DELETED = "deleted"
    STARTED = "started"
    COMPLETED = "completed"


class Event(msgspec.Struct, frozen=True):
    """Something that happened to one resource, seen by one application.

    `snapshot` holds the resource's state when it happened (plain values), so that a late
    delivery shows what the client would have seen then; `None` delivers a link only.
    A frozen Struct, not a dataclass: a setup makes, stores and reads back dozens, and a frozen
    dataclass's `__init__` took four times as long.
    """

    sender: str  # rel of the sending resource: me, communication, conversation ...
    sender_key: str  # which one (a conversation id), or ""
    type: EventType
    target: str  # rel of the resource the event is about
    target_key: str
    priority: Priority
    snapshot: dict[str, Any] | None = None
    status: str | None = None  # Success / Failure on completed operations
    reason: dict[str, str] | None = None
    id: int = 0  # assigned when stored; orders delivery
    created_us: int = 0

    def stamped(self, created_us: int) -> Event:
        """The event as stored at a moment."""
        return msgspec.structs.replace(self, created_us=created_us)


class Channel(msgspec.Struct, frozen=True):
    """Where an application's event channel stands."""

    batch: int = 0  # number of the last batch served (0: none yet)
    batch_last_id: int = 0  # id of the last event in that batch
    acked_id: int = 0  # every event up to this id has been acknowledged


class Step(StrEnum):
    """What a P-GET with a given `ack` does."""

    RESEND = "resend"  # the last batch again
    ADVANCE = "advance"  # acknowledge the last batch and serve the next
    RESYNC = "resync"  # out of range: point the client at the first unacknowledged batch


def step_for(channel: Channel, ack: int) -> Step:
    """The step a P-GET for batch `ack` takes."""
    if ack == channel.batch and channel.batch > 0:
        return Step.RESEND
    if ack == channel.batch + 1:
        return Step.ADVANCE
    return Step.RESYNC


def acknowledge(channel: Channel) -> Channel:
    """The channel once the last batch served is acknowledged."""
    return Channel(channel.batch, channel.batch_last_id, max(channel.acked_id, channel.batch_last_id))


def serve(channel: Channel, events: list[Event]) -> Channel:
    """The channel after serving these (unacknowledged) events as the next batch."""
    last = events[-1].id if events else channel.acked_id
    return Channel(channel.batch + 1, last, channel.acked_id)


@dataclass(frozen=True)
class Timing:
    """How long events of each priority may wait before they release a P-GET (seconds)."""

    timeout: int = 180
    medium: int = 5
    low: int = 15
    limits: dict[str, tuple[int, int]] = field(
        default_factory=lambda: {"timeout": (180, 1800), "medium": (5, 1800), "low": (5, 1800)}
    )


def release_at(events: list[Event], timing: Timing) -> int | None:
    """When (microseconds since the epoch) pending events must be delivered; None if never."""
    deadlines = []
    for event in events:
        if event.priority >= Priority.HIGH:
            return event.created_us
        wait = timing.medium if event.priority == Priority.MEDIUM else timing.low
        deadlines.append(event.created_us + wait * 1_000_000)
    return min(deadlines) if deadlines else None
