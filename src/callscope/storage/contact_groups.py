"""The contact-groups store: one row per named group, keyed by its slot number."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select

from callscope.domain.contact_groups import ContactGroup
from callscope.storage.tables import contact_groups


def find_all(conn: Connection, tenant_id: str, user_uri: str) -> list[ContactGroup]:
    """A user's own groups, by number."""
    c = contact_groups.c
    rows = conn.execute(
        select(c.number, c.name).where(c.tenant_id == tenant_id, c.user_uri == user_uri).order_by(c.number)
    )
    return [ContactGroup(tenant_id, user_uri, row.number, row.name) for row in rows]


def add(conn: Connection, group: ContactGroup) -> None:
    """Store a new group; a taken slot or name raises the driver's IntegrityError."""
    conn.execute(
        insert(contact_groups).values(
            tenant_id=group.tenant_id,
            user_uri=group.user_uri,
            number=group.number,
            name=group.name,
            name_key=group.name.casefold(),
        )
    )


def remove(conn: Connection, tenant_id: str, user_uri: str, number: int) -> bool:
    """Remove a group; False if there was none."""
    c = contact_groups.c
    result = conn.execute(
        delete(contact_groups).where(c.tenant_id == tenant_id, c.user_uri == user_uri, c.number == number)
    )
    return bool(result.rowcount)
