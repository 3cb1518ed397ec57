"""The calls store."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import msgspec
from sqlalchemy import BindParameter, Connection, and_, bindparam, func, insert, or_, select, update

from callscope.domain.calls import Call, CallState, Outcome, Renegotiation
from callscope.storage.compiled import Compiled
from callscope.storage.tables import applications, calls

_c = calls.c
_FIELDS = tuple(f.name for f in fields(Call))  # the table's columns, one for each field
_KEY = (_c.tenant_id == bindparam("key_tenant"), _c.id == bindparam("key_id"))
# Every column, set from `_row`.
_VALUES: dict[str, BindParameter[Any]] = {name: bindparam(f"v_{name}") for name in _FIELDS}
# Every change of a live call reads it and writes it back: compiled once, run on the cursor.
_BY_ID = Compiled(select(calls).where(*_KEY))
_BY_ID_LOCKED = Compiled(select(calls).where(*_KEY).with_for_update())
# A change sets every column but the key: SQLite rewrites the entry of every index one of whose columns is
# set, even to the same value, so setting the key would rewrite the primary key's index at every change.
_SAVE = Compiled(
    update(calls)
    .where(*_KEY, _c.revision == bindparam("key_revision"))
    .values({name: value for name, value in _VALUES.items() if name not in ("tenant_id", "id")})
)
_INSERT = Compiled(insert(calls).values(_VALUES))


def _row(call: Call) -> dict[str, Any]:
    """The call's columns, named as `_VALUES` binds them."""
    values = {name: getattr(call, name) for name in _FIELDS}  # shallow: asdict's deep copy is costly here
    values["renegotiation"] = msgspec.json.encode(call.renegotiation).decode() if call.renegotiation else None
    values["feedback"] = msgspec.json.encode(call.feedback).decode()
    values["modalities"] = ",".join(call.modalities)
    values["offered"] = ",".join(call.offered)
    values["state"] = call.state.value
    values["outcome"] = call.outcome.value if call.outcome else None
    return {f"v_{name}": value for name, value in values.items()}


def _call(row: Any) -> Call:
    values = dict(row)
    values["modalities"] = tuple(m for m in values["modalities"].split(",") if m)
    values["offered"] = tuple(a for a in values["offered"].split(",") if a)
    values["state"] = CallState(values["state"])
    values["outcome"] = Outcome(values["outcome"]) if values["outcome"] else None
    pending = msgspec.json.decode(values["renegotiation"]) if values["renegotiation"] else None
    values["renegotiation"] = (
        Renegotiation(**{**pending, "modalities": tuple(pending["modalities"])}) if pending else None
    )
    values["feedback"] = msgspec.json.decode(values["feedback"] or "{}")
    return Call(**values)


def insert_one(conn: Connection, call: Call) -> None:
    """Store a new call."""
    _INSERT.run(conn, _row(call))


def find(conn: Connection, tenant_id: str, call_id: str, *, for_update: bool = False) -> Call | None:
    """A call by id (locked for the transaction when asked, on engines that lock rows)."""
    key = {"key_tenant": tenant_id, "key_id": call_id}
    row = (_BY_ID_LOCKED if for_update else _BY_ID).first(conn, key)
    return _call(row) if row else None


def save(conn: Connection, before: Call, after: Call) -> bool:
    """Store a changed call unless someone else changed it meanwhile (False then)."""
    values = {**_row(after), "v_revision": before.revision + 1}
    key = {"key_tenant": after.tenant_id, "key_id": after.id, "key_revision": before.revision}
    return _SAVE.run(conn, {**key, **values}) == 1


def list_active_for(conn: Connection, tenant_id: str, application_id: str) -> list[Call]:
    """Calls not yet ended that an application takes part in."""
    rows = conn.execute(
        select(calls).where(
            _c.tenant_id == tenant_id,
            _c.state != CallState.ENDED.value,
            (_c.caller_app == application_id)
            | (_c.answered_by == application_id)
            | _c.offered.contains(application_id),
        )
    )
    return [c for c in (_call(row._mapping) for row in rows) if c.sees(application_id)]


def list_ringing_before(conn: Connection, created_before_us: int) -> list[Call]:
    """Calls still ringing that started before a moment (for the no-answer timeout)."""
    rows = conn.execute(select(calls).where(_c.state == CallState.RINGING.value, _c.created_us < created_before_us))
    return [_call(row._mapping) for row in rows]


def list_connected_with_silent_side(conn: Connection, active_since_us: int) -> list[Call]:
    """Established or Idle calls one of whose applications is gone or has not been active since a moment."""
    sides = [applications.alias("caller_side"), applications.alias("callee_side")]
    caller, callee = sides
    peer = func.coalesce(_c.answered_by, _c.offered)  # an Idle call nobody answered last rang exactly one peer
    joined = calls.outerjoin(caller, and_(caller.c.tenant_id == _c.tenant_id, caller.c.id == _c.caller_app)).outerjoin(
        callee, and_(callee.c.tenant_id == _c.tenant_id, callee.c.id == peer)
    )
    silent = [
        or_(
            side.c.id.is_(None),
            and_(
                side.c.last_seen_us < active_since_us,
                or_(side.c.parked_until_us.is_(None), side.c.parked_until_us < active_since_us),
            ),
        )
        for side in sides
    ]
    connected = _c.state.in_([CallState.ESTABLISHED.value, CallState.IDLE.value])
    rows = conn.execute(select(calls).select_from(joined).where(connected, or_(*silent)))
    return [_call(row._mapping) for row in rows]


_a = applications.c
# Every call start asks: compiled once, run on the cursor.
_AVAILABLE = Compiled(
    select(_a.id)
    .where(
        _a.tenant_id == bindparam("tenant_id"),
        _a.user_uri == bindparam("user_uri"),
        _a.modalities.is_not(None),
        or_(_a.last_seen_us >= bindparam("seen_since_us"), _a.parked_until_us >= bindparam("seen_since_us")),
    )
    .order_by(_a.id)
)


def available_applications(conn: Connection, tenant_id: str, user_uri: str, seen_since_us: int) -> list[str]:
    """Ids of a user's live applications that made themselves available."""
    found = _AVAILABLE.rows(conn, {"tenant_id": tenant_id, "user_uri": user_uri, "seen_since_us": seen_since_us})
    return [row[0] for row in found]
