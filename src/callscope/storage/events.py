"""The events store: each application's events, kept until its client acknowledges them."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
from sqlalchemy import Connection, bindparam, delete, insert, select

from callscope.domain.events import Event
from callscope.storage.compiled import Compiled
from callscope.storage.tables import applications, events

_c = events.c
_OWNER = (_c.tenant_id == bindparam("owner_tenant"), _c.application_id == bindparam("owner_app"))
# The event channel's hot path: compiled once, run on the cursor of the caller's transaction.
_INSERT = Compiled(
    insert(events).values(
        tenant_id=bindparam("owner_tenant"),
        application_id=bindparam("owner_app"),
        created_us=bindparam("created"),
        payload=bindparam("body"),
    )
)
_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(Event)
_AFTER_QUERY = select(_c.id, _c.payload).where(*_OWNER, _c.id > bindparam("after_id")).order_by(_c.id)
_AFTER = Compiled(_AFTER_QUERY)
_BETWEEN = Compiled(_AFTER_QUERY.where(_c.id <= bindparam("upto_id")))
_ACKNOWLEDGED_UPTO = (
    select(applications.c.acked_id)
    .where(applications.c.tenant_id == _c.tenant_id, applications.c.id == _c.application_id)
    .scalar_subquery()
)


def append(conn: Connection, tenant_id: str, application_id: str, batch: Iterable[Event]) -> None:
    """Store events for one application, in order."""
    rows = [
        {
            "owner_tenant": tenant_id,
            "owner_app": application_id,
            "created": e.created_us,
            "body": _ENCODER.encode(e),  # its id is the row's, given on reading
        }
        for e in batch
    ]
    if rows:
        _INSERT.run_many(conn, rows)


def list_between(
    conn: Connection, tenant_id: str, application_id: str, after_id: int, upto_id: int | None
) -> list[Event]:
    """The application's events with after_id < id (≤ upto_id when given), in order."""
    owner = {"owner_tenant": tenant_id, "owner_app": application_id, "after_id": after_id}
    statement, params = (_AFTER, owner) if upto_id is None else (_BETWEEN, {**owner, "upto_id": upto_id})
    return [_event(event_id, payload) for event_id, payload in statement.rows(conn, params)]


def forget_acknowledged(conn: Connection) -> int:
    """Drop every event its application's client has acknowledged; how many went.

    Channels read only the events after their acknowledged id, so acknowledged ones may wait for this
    sweep: deleting them at each P-GET rewrote the table's and its index's pages at every acknowledgement.
    """
    return int(conn.execute(delete(events).where(_c.id <= _ACKNOWLEDGED_UPTO)).rowcount)


def _event(event_id: int, payload: bytes) -> Event:
    return msgspec.structs.replace(_DECODER.decode(payload), id=event_id)
