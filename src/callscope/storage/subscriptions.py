"""The subscriptions store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from callscope.domain.subscriptions import Subscription
from callscope.storage.compiled import Compiled
from callscope.storage.tables import subscriptions

_c = subscriptions.c
# Every ended call asks: compiled once, run on the cursor.
_LIVE = Compiled(
    select(subscriptions)
    .where(_c.tenant_id == bindparam("tenant_id"), _c.expires_us > bindparam("now_us"))
    .order_by(_c.created_us, _c.id)
)


def _row(subscription: Subscription) -> dict[str, Any]:
    return {**asdict(subscription), "change_types": ",".join(subscription.change_types)}


def _subscription(row: Mapping[Any, Any]) -> Subscription:
    values = dict(row)
    return Subscription(**{**values, "change_types": tuple(values["change_types"].split(","))})


def add(conn: Connection, subscription: Subscription) -> None:
    """Store a new subscription."""
    conn.execute(insert(subscriptions).values(**_row(subscription)))


def find(conn: Connection, tenant_id: str, subscription_id: str) -> Subscription | None:
    """A tenant's subscription by id."""
    row = conn.execute(select(subscriptions).where(_c.tenant_id == tenant_id, _c.id == subscription_id)).first()
    return _subscription(row._mapping) if row else None


def find_live(conn: Connection, tenant_id: str, now_us: int) -> list[Subscription]:
    """A tenant's subscriptions that have not expired, oldest first."""
    return [_subscription(row) for row in _LIVE.all(conn, {"tenant_id": tenant_id, "now_us": now_us})]


def save_expiry(conn: Connection, subscription: Subscription) -> None:
    """Store a renewed expiry."""
    conn.execute(
        update(subscriptions)
        .where(_c.tenant_id == subscription.tenant_id, _c.id == subscription.id)
        .values(expires_us=subscription.expires_us)
    )


def remove(conn: Connection, tenant_id: str, subscription_id: str) -> bool:
    """Remove a subscription; False if there was none."""
    result = conn.execute(delete(subscriptions).where(_c.tenant_id == tenant_id, _c.id == subscription_id))
    return bool(result.rowcount)


def remove_expired(conn: Connection, now_us: int) -> int:
    """Forget subscriptions that expired; how many."""
    return int(conn.execute(delete(subscriptions).where(_c.expires_us <= now_us)).rowcount)
