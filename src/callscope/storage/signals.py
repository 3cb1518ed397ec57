"""Cross-process wake-ups for the event channel, through PostgreSQL LISTEN/NOTIFY.

`signal` runs inside the transaction that stores the events; PostgreSQL delivers the
notification only when that transaction commits, so a listener never wakes before the events are
readable. SQLite runs a single server process and needs no signal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import psycopg
from sqlalchemy import Connection, Engine, text

CHANNEL = "callscope_events"
log = logging.getLogger("callscope.signals")


def signal(conn: Connection, tenant_id: str, application_id: str) -> None:
    """Tell every process that this application has new events (on commit)."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": CHANNEL, "payload": f"{tenant_id}\n{application_id}"},
        )


def listens(engine: Engine) -> bool:
    """Whether this database carries signals between processes."""
    return engine.dialect.name == "postgresql"


async def listen(engine: Engine, wake: Callable[[str, str], None]) -> None:
    """Call `wake(tenant, application)` for every signal, until cancelled."""
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(f"LISTEN {CHANNEL}")
        async for notice in conn.notifies():
            tenant_id, _, application_id = notice.payload.partition("\n")
            wake(tenant_id, application_id)
