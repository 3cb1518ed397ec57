"""The applications store."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import Connection, bindparam, delete, insert, select, update

from callscope.domain.applications import Application
from callscope.domain.events import Channel
from callscope.storage.compiled import Compiled
from callscope.storage.tables import applications, events

_c = applications.c
_KEY = (_c.tenant_id == bindparam("key_tenant"), _c.id == bindparam("key_id"))
# Every P-GET reads its application and moves its channel on: compiled once, run on the cursor.
_BY_ID = Compiled(select(applications).where(*_KEY))
_UPDATE = update(applications).where(*_KEY)
_ADVANCE = Compiled(
    update(applications)
    .where(*_KEY, _c.batch == bindparam("expected_batch"))
    .values(batch=bindparam("to_batch"), batch_last_id=bindparam("to_last_id"), acked_id=bindparam("to_acked_id"))
)


def _application(row: Any) -> Application:
    values = dict(row)
    modalities = values.pop("modalities")
    channel = Channel(values.pop("batch"), values.pop("batch_last_id"), values.pop("acked_id"))
    timing = values.pop("pget_timing")
    return Application(
        **values,
        pget_timing=msgspec.json.decode(timing) if timing else {},
        modalities=None if modalities is None else tuple(m for m in modalities.split(",") if m),
        channel=channel,
    )


def find(conn: Connection, tenant_id: str, application_id: str) -> Application | None:
    """An application by id."""
    row = _BY_ID.first(conn, {"key_tenant": tenant_id, "key_id": application_id})
    return _application(row) if row else None


def find_by_endpoint(conn: Connection, tenant_id: str, user_uri: str, endpoint_id: str) -> Application | None:
    """The application a user runs on one endpoint (device)."""
    row = conn.execute(
        select(applications).where(_c.tenant_id == tenant_id, _c.user_uri == user_uri, _c.endpoint_id == endpoint_id)
    ).first()
    return _application(row._mapping) if row else None


def insert_one(conn: Connection, application: Application) -> None:
    """Store a new application."""
    conn.execute(
        insert(applications).values(
            tenant_id=application.tenant_id,
            id=application.id,
            user_uri=application.user_uri,
            user_agent=application.user_agent,
            endpoint_id=application.endpoint_id,
            culture=application.culture,
            instance_id=application.instance_id,
            created_us=application.created_us,
            last_seen_us=application.last_seen_us,
        )
    )


def _update(conn: Connection, tenant_id: str, application_id: str, **values: Any) -> None:
    conn.execute(_UPDATE, {"key_tenant": tenant_id, "key_id": application_id, **values})


def touch(conn: Connection, tenant_id: str, application_id: str, now_us: int) -> None:
    """Record that the application was heard from."""
    _update(conn, tenant_id, application_id, last_seen_us=now_us)


def park_until(conn: Connection, tenant_id: str, application_id: str, until_us: int) -> None:
    """Record that a P-GET keeps the application active until `until_us`."""
    _update(conn, tenant_id, application_id, parked_until_us=until_us)


def save_pget_timing(conn: Connection, tenant_id: str, application_id: str, timing: dict[str, int]) -> None:
    """Keep the P-GET parameters an application gave, for its later P-GETs."""
    _update(conn, tenant_id, application_id, pget_timing=msgspec.json.encode(timing).decode())


def set_modalities(conn: Connection, tenant_id: str, application_id: str, modalities: tuple[str, ...]) -> bool:
    """Make the application available for these modalities; False if it already was."""
    result = conn.execute(
        update(applications)
        .where(_c.tenant_id == tenant_id, _c.id == application_id, _c.modalities.is_(None))
        .values(modalities=",".join(modalities))
    )
    return result.rowcount == 1


def replace_modalities(
    conn: Connection, tenant_id: str, application_id: str, expected: tuple[str, ...], modalities: tuple[str, ...]
) -> bool:
    """Change an available application's modalities if they are still `expected` (False otherwise)."""
    result = conn.execute(
        update(applications)
        .where(_c.tenant_id == tenant_id, _c.id == application_id, _c.modalities == ",".join(expected))
        .values(modalities=",".join(modalities))
    )
    return result.rowcount == 1


def advance_channel(
    conn: Connection, tenant_id: str, application_id: str, expected_batch: int, channel: Channel
) -> bool:
    """Store where the event channel stands if its last batch is still `expected_batch`; False otherwise."""
    changed = _ADVANCE.run(
        conn,
        {
            "key_tenant": tenant_id,
            "key_id": application_id,
            "expected_batch": expected_batch,
            "to_batch": channel.batch,
            "to_last_id": channel.batch_last_id,
            "to_acked_id": channel.acked_id,
        },
    )
    return changed == 1


def remove(conn: Connection, tenant_id: str, application_id: str) -> None:
    """Delete an application and its undelivered events."""
    conn.execute(delete(events).where(events.c.tenant_id == tenant_id, events.c.application_id == application_id))
    conn.execute(delete(applications).where(_c.tenant_id == tenant_id, _c.id == application_id))
