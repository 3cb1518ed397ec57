"""Cross-process wake-ups for the event channel: which applications other processes stored events for.

PostgreSQL: LISTEN/NOTIFY. `signal` runs inside the transaction that stores the events, and
PostgreSQL delivers the notification only when that transaction commits, so a listener never
wakes before the events are readable.

SQLite, when several server processes share one database file: each process watches the file.
SQLite counts, per connection, the commits other connections make (`PRAGMA data_version`); a
watcher asks for that count every 5 ms while the file is busy (one page-cache check, no table
read) and, when it moved, reads the events stored since the last one it saw. After a second with
no commits it looks every 50 ms instead: each look costs about 0.25 ms of CPU, which at 5 ms kept
7 % of a core busy in every idle process; the first event after a quiet spell (a call ringing)
may then wait up to 50 ms, and the rest of the call's exchange is watched at 5 ms again.
Event ids are never reused (AUTOINCREMENT) and SQLite commits one writer at a time, so `id >` the
last seen misses nothing. An event deleted before the watcher saw it was already acknowledged: nobody waited for it.
A single SQLite process needs neither: its own P-GETs are woken directly.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import psycopg
from sqlalchemy import Connection, Engine, text

from callscope.storage.database import sqlite_commit_count

CHANNEL = "callscope_events"
SQLITE_POLL_SECONDS = 0.005  # what a wake-up from another process may wait, at most, on a busy SQLite file
SQLITE_QUIET_POLL_SECONDS = 0.05  # the same once nothing has been committed for SQLITE_QUIET_AFTER_SECONDS
SQLITE_QUIET_AFTER_SECONDS = 1.0
log = logging.getLogger("callscope.signals")
Wake = Callable[[str, str], None]


def signal(conn: Connection, tenant_id: str, application_id: str) -> None:
    """Tell every process that this application has new events (on commit)."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": CHANNEL, "payload": f"{tenant_id}\n{application_id}"},
        )


def listens(engine: Engine, shared: bool) -> bool:
    """Whether this process must listen for other processes' events: always on PostgreSQL, on a shared SQLite file."""
    return engine.dialect.name == "postgresql" or shared


async def listen(engine: Engine, wake: Wake) -> None:
    """Call `wake(tenant, application)` for every application other processes store events for, until cancelled."""
    if engine.dialect.name == "sqlite":
        await _watch_sqlite(engine, wake)
        return
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(f"LISTEN {CHANNEL}")
        async for notice in conn.notifies():
            tenant_id, _, application_id = notice.payload.partition("\n")
            wake(tenant_id, application_id)


async def _watch_sqlite(engine: Engine, wake: Wake) -> None:
    connection = engine.raw_connection()  # its own: the commit count is counted per connection
    try:
        seen = sqlite_commit_count(connection)
        last_id = connection.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
        last_change = time.monotonic()
        while True:
            quiet = time.monotonic() - last_change > SQLITE_QUIET_AFTER_SECONDS
            await asyncio.sleep(SQLITE_QUIET_POLL_SECONDS if quiet else SQLITE_POLL_SECONDS)
            commits = sqlite_commit_count(connection)  # read before the events: a commit after it is seen next time
            if commits == seen:
                continue
            seen, last_change = commits, time.monotonic()
            rows = connection.execute(
                "SELECT id, tenant_id, application_id FROM events WHERE id > ? ORDER BY id", (last_id,)
            ).fetchall()
            if rows:
                last_id = rows[-1][0]
            for tenant_id, application_id in dict.fromkeys((row[1], row[2]) for row in rows):
                wake(tenant_id, application_id)
    finally:
        connection.close()
