"""The applications store."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import Connection, delete, insert, select, update

from callscope.domain.applications import Application
from callscope.storage.tables import applications


def find(conn: Connection, tenant_id: str, application_id: str) -> Application | None:
    """An application by id."""
    row = conn.execute(
        select(applications).where(applications.c.tenant_id == tenant_id, applications.c.id == application_id)
    ).first()
    return Application(**row._mapping) if row else None


def find_by_endpoint(conn: Connection, tenant_id: str, user_uri: str, endpoint_id: str) -> Application | None:
    """The application a user runs on one endpoint (device)."""
    c = applications.c
    row = conn.execute(
        select(applications).where(c.tenant_id == tenant_id, c.user_uri == user_uri, c.endpoint_id == endpoint_id)
    ).first()
    return Application(**row._mapping) if row else None


def insert_one(conn: Connection, application: Application) -> None:
    """Store a new application."""
    conn.execute(insert(applications).values(**asdict(application)))


def touch(conn: Connection, tenant_id: str, application_id: str, now_us: int) -> None:
    """Record that the application was heard from."""
    conn.execute(
        update(applications)
        .where(applications.c.tenant_id == tenant_id, applications.c.id == application_id)
        .values(last_seen_us=now_us)
    )


def remove(conn: Connection, tenant_id: str, application_id: str) -> None:
    """Delete an application."""
    conn.execute(delete(applications).where(applications.c.tenant_id == tenant_id, applications.c.id == application_id))
