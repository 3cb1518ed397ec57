"""The events store: each application's events, kept until its client acknowledges them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, replace

import msgspec
from sqlalchemy import Connection, delete, insert, select

from callscope.domain.events import Event, EventType, Priority
from callscope.storage.tables import events

_c = events.c


def append(conn: Connection, tenant_id: str, application_id: str, batch: Iterable[Event]) -> None:
    """Store events for one application, in order."""
    rows = [
        {
            "tenant_id": tenant_id,
            "application_id": application_id,
            "created_us": e.created_us,
            "payload": msgspec.json.encode({k: v for k, v in asdict(e).items() if k != "id"}),
        }
        for e in batch
    ]
    if rows:
        conn.execute(insert(events), rows)


def list_between(
    conn: Connection, tenant_id: str, application_id: str, after_id: int, upto_id: int | None
) -> list[Event]:
    """The application's events with after_id < id (≤ upto_id when given), in order."""
    statement = (
        select(_c.id, _c.payload)
        .where(_c.tenant_id == tenant_id, _c.application_id == application_id, _c.id > after_id)
        .order_by(_c.id)
    )
    if upto_id is not None:
        statement = statement.where(_c.id <= upto_id)
    return [_event(row.id, row.payload) for row in conn.execute(statement)]


def forget_upto(conn: Connection, tenant_id: str, application_id: str, upto_id: int) -> None:
    """Drop acknowledged events."""
    conn.execute(delete(events).where(_c.tenant_id == tenant_id, _c.application_id == application_id, _c.id <= upto_id))


def _event(event_id: int, payload: bytes) -> Event:
    values = msgspec.json.decode(payload)
    event = Event(**values)
    return replace(event, id=event_id, type=EventType(event.type), priority=Priority(event.priority))
