"""The events store: each application's events, kept until its client acknowledges them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import msgspec
from sqlalchemy import Connection, bindparam, delete, insert, select

from callscope.domain.events import Event, EventType, Priority
from callscope.storage.tables import events

_c = events.c
_OWNER = (_c.tenant_id == bindparam("tenant_id"), _c.application_id == bindparam("application_id"))
# Built once (the event channel's hot path): no statement to build or key per call.
_INSERT = insert(events)
_ENCODER = msgspec.json.Encoder()
_AFTER = select(_c.id, _c.payload).where(*_OWNER, _c.id > bindparam("after_id")).order_by(_c.id)
_BETWEEN = _AFTER.where(_c.id <= bindparam("upto_id"))
_FORGET = delete(events).where(*_OWNER, _c.id <= bindparam("upto_id"))


def append(conn: Connection, tenant_id: str, application_id: str, batch: Iterable[Event]) -> None:
    """Store events for one application, in order."""
    rows = [
        {
            "tenant_id": tenant_id,
            "application_id": application_id,
            "created_us": e.created_us,
            "payload": _ENCODER.encode(e),  # its id is the row's, given on reading
        }
        for e in batch
    ]
    if rows:
        conn.execute(_INSERT, rows)


def list_between(
    conn: Connection, tenant_id: str, application_id: str, after_id: int, upto_id: int | None
) -> list[Event]:
    """The application's events with after_id < id (≤ upto_id when given), in order."""
    owner = {"tenant_id": tenant_id, "application_id": application_id, "after_id": after_id}
    statement, params = (_AFTER, owner) if upto_id is None else (_BETWEEN, {**owner, "upto_id": upto_id})
    rows = conn.execute(statement, params)
    return [_event(row.id, row.payload) for row in rows]


def forget_upto(conn: Connection, tenant_id: str, application_id: str, upto_id: int) -> None:
    """Drop acknowledged events."""
    conn.execute(_FORGET, {"tenant_id": tenant_id, "application_id": application_id, "upto_id": upto_id})


def _event(event_id: int, payload: bytes) -> Event:
    values = msgspec.json.decode(payload)
    event = Event(**values)
    return replace(event, id=event_id, type=EventType(event.type), priority=Priority(event.priority))
