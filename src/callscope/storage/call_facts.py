"""The call-facts store: what happened in each call, in the order it was written."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from sqlalchemy import Connection, bindparam, func, insert, select

from callscope.domain.call_history import Fact, FactKind
from callscope.storage.tables import call_facts

_c = call_facts.c
_OF_CALL = (_c.tenant_id == bindparam("tenant_id"), _c.call_id == bindparam("call_id"))
_LAST = select(func.max(_c.seq)).where(*_OF_CALL)  # built once: every change of a call asks
_INSERT = insert(call_facts)


def append(conn: Connection, tenant_id: str, call_id: str, facts: Sequence[Fact]) -> None:
    """Add facts after the call's last one (the caller holds the call's row for the transaction)."""
    last = conn.execute(_LAST, {"tenant_id": tenant_id, "call_id": call_id}).scalar_one_or_none()
    first = (last or 0) + 1
    rows = [
        {
            "tenant_id": tenant_id,
            "call_id": call_id,
            "seq": first + n,
            "at_us": fact.at_us,
            "kind": fact.kind.value,
            "app": fact.app,
            "data": msgspec.json.encode(fact.data).decode(),
        }
        for n, fact in enumerate(facts)
    ]
    conn.execute(_INSERT, rows)


def find_all(conn: Connection, tenant_id: str, call_id: str) -> list[Fact]:
    """Every fact of a call, in writing order."""
    rows = conn.execute(
        select(_c.at_us, _c.kind, _c.app, _c.data)
        .where(_c.tenant_id == tenant_id, _c.call_id == call_id)
        .order_by(_c.seq)
    )
    return [Fact(FactKind(row.kind), row.at_us, row.app, msgspec.json.decode(row.data)) for row in rows]
