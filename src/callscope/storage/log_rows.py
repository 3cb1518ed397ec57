"""The log-rows store: PSTN, direct routing, SMS and blocked-user rows by kind and time."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, delete, insert, select, tuple_

from callscope.domain.log_rows import StoredLogRow
from callscope.storage.tables import log_rows

_IN_CHUNK = 500


def write(conn: Connection, tenant_id: str, rows: Iterable[StoredLogRow]) -> None:
    """Write rows; a row with the key of a stored one replaces it."""
    batch = list({(r.kind, r.row_key): r for r in rows}.values())
    for start in range(0, len(batch), _IN_CHUNK):
        chunk = batch[start : start + _IN_CHUNK]
        conn.execute(
            delete(log_rows).where(
                log_rows.c.tenant_id == tenant_id,
                tuple_(log_rows.c.kind, log_rows.c.row_key).in_([(r.kind, r.row_key) for r in chunk]),
            )
        )
    if batch:
        conn.execute(
            insert(log_rows),
            [
                {
                    "tenant_id": tenant_id,
                    "kind": r.kind,
                    "row_key": r.row_key,
                    "start_us": r.start_us,
                    "document": r.document,
                }
                for r in batch
            ],
        )


def list_documents(
    conn: Connection,
    tenant_id: str,
    kind: str,
    between: tuple[int, int],
    after: tuple[int, str] | None,
    limit: int | None,
) -> list[tuple[int, str, bytes]]:
    """(start_us, row_key, document) rows of a kind with start in [from, to], in time order."""
    c = log_rows.c
    statement = (
        select(c.start_us, c.row_key, c.document)
        .where(c.tenant_id == tenant_id, c.kind == kind, c.start_us.between(*between))
        .order_by(c.start_us, c.row_key)
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(tuple_(c.start_us, c.row_key) > tuple_(*after))
    return [(row[0], row[1], row[2]) for row in conn.execute(statement)]
