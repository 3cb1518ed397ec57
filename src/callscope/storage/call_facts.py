"""The call-facts store: what happened in each call, in the order it was written."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from sqlalchemy import Connection, bindparam, func, insert, select

from callscope.domain.call_history import Fact, FactKind
from callscope.storage.compiled import Compiled
from callscope.storage.tables import call_facts

_c = call_facts.c
_OF_CALL = (_c.tenant_id == bindparam("tenant_id"), _c.call_id == bindparam("call_id"))
# Every change of a call runs these: compiled once, run on the cursor.
_LAST = Compiled(select(func.max(_c.seq)).where(*_OF_CALL))
_INSERT = Compiled(insert(call_facts).values({c.name: bindparam(c.name) for c in call_facts.c}))
_ALL = Compiled(select(_c.at_us, _c.kind, _c.app, _c.data).where(*_OF_CALL).order_by(_c.seq))


def append(conn: Connection, tenant_id: str, call_id: str, facts: Sequence[Fact]) -> None:
    """Add facts after the call's last one (the caller holds the call's row for the transaction)."""
    last = _LAST.rows(conn, {"tenant_id": tenant_id, "call_id": call_id})[0][0]
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
    _INSERT.run_many(conn, rows)


def find_all(conn: Connection, tenant_id: str, call_id: str) -> list[Fact]:
    """Every fact of a call, in writing order."""
    rows = _ALL.rows(conn, {"tenant_id": tenant_id, "call_id": call_id})
    return [Fact(FactKind(kind), at_us, app, msgspec.json.decode(data)) for at_us, kind, app, data in rows]
