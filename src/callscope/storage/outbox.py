"""The outbox: notifications written with the change they announce, deleted once delivered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from callscope.storage.tables import outbox

_c = outbox.c


@dataclass(frozen=True)
class Message:
    """One POST to make."""

    id: int
    tenant_id: str
    subscription_id: str
    url: str
    body: bytes
    lifecycle: bool
    attempts: int
    created_us: int


@dataclass(frozen=True)
class Outgoing:
    """A message before it is stored."""

    tenant_id: str
    subscription_id: str
    url: str
    body: bytes
    lifecycle: bool = False


def add(conn: Connection, messages: Sequence[Outgoing], now_us: int) -> None:
    """Store messages, due at once."""
    if messages:
        conn.execute(
            insert(outbox),
            [
                {
                    "tenant_id": m.tenant_id,
                    "subscription_id": m.subscription_id,
                    "url": m.url,
                    "body": m.body,
                    "lifecycle": int(m.lifecycle),
                    "attempts": 0,
                    "due_us": now_us,
                    "created_us": now_us,
                }
                for m in messages
            ],
        )


def claim(conn: Connection, now_us: int, lease_us: int, limit: int) -> list[Message]:
    """Due messages, each claimed for `lease_us` so that no other process sends it meanwhile."""
    rows = conn.execute(select(outbox).where(_c.due_us <= now_us).order_by(_c.due_us, _c.id).limit(limit)).all()
    claimed = []
    for row in rows:
        taken = conn.execute(
            update(outbox).where(_c.id == row.id, _c.due_us == row.due_us).values(due_us=now_us + lease_us)
        )
        if taken.rowcount:
            claimed.append(
                Message(
                    row.id,
                    row.tenant_id,
                    row.subscription_id,
                    row.url,
                    bytes(row.body),
                    bool(row.lifecycle),
                    row.attempts,
                    row.created_us,
                )
            )
    return claimed


def delivered(conn: Connection, message_id: int) -> None:
    """Forget a delivered message."""
    conn.execute(delete(outbox).where(_c.id == message_id))


def retry(conn: Connection, message_id: int, due_us: int) -> None:
    """Try a message again later."""
    conn.execute(update(outbox).where(_c.id == message_id).values(due_us=due_us, attempts=_c.attempts + 1))


def remove_for(conn: Connection, tenant_id: str, subscription_id: str) -> None:
    """Forget the pending notifications of a removed subscription (lifecycle ones stay)."""
    conn.execute(
        delete(outbox).where(_c.tenant_id == tenant_id, _c.subscription_id == subscription_id, _c.lifecycle == 0)
    )


def pending(conn: Connection) -> int:
    """How many messages wait."""
    return len(conn.execute(select(_c.id)).all())
