"""The users store."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, insert, select, update

from callscope.domain.users import User
from callscope.storage.compiled import Compiled
from callscope.storage.tables import users


def find_by_uri(conn: Connection, uri: str) -> tuple[User, str | None] | None:
    """A user and their password hash, by sign-in URI (unique across tenants)."""
    row = conn.execute(select(users).where(users.c.uri == uri)).first()
    if row is None:
        return None
    return User(row.tenant_id, row.uri, row.display_name), row.password_hash


_BY_URI = Compiled(
    select(users).where(users.c.tenant_id == bindparam("key_tenant"), users.c.uri == bindparam("key_uri"))
)


def find(conn: Connection, tenant_id: str, uri: str) -> User | None:
    """A user of a tenant."""
    row = _BY_URI.first(conn, {"key_tenant": tenant_id, "key_uri": uri})
    return User(row["tenant_id"], row["uri"], row["display_name"]) if row else None


def save(conn: Connection, user: User, password_hash: str | None) -> None:
    """Create the user, or update name and password of the same tenant's user."""
    existing = find(conn, user.tenant_id, user.uri)
    values = {"display_name": user.display_name, "password_hash": password_hash}
    if existing is None:
        conn.execute(insert(users).values(tenant_id=user.tenant_id, uri=user.uri, **values))
    else:
        conn.execute(update(users).where(users.c.tenant_id == user.tenant_id, users.c.uri == user.uri).values(**values))
