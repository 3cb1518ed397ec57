"""UCWA applications: created per device, found only by their own user, expired when idle."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from callscope.domain.applications import Application, check_inputs
from callscope.errors import Gone, NotFound
from callscope.storage import applications as store
from callscope.storage.database import Database, repeatable

Clock = Callable[[], int]  # microseconds since the epoch
TOUCH_EVERY_US = 30_000_000  # how stale `last_seen` may get before a request refreshes it


def system_clock() -> int:
    """The wall clock in microseconds."""
    return time.time_ns() // 1000


class Applications:
    """Application use cases."""

    def __init__(self, database: Database, clock: Clock = system_clock) -> None:
        self._database = database
        self._clock = clock

    def create(self, tenant_id: str, user_uri: str, inputs: dict[str, str | None]) -> tuple[Application, bool]:
        """A new application, or the user's running one on the same endpoint (and False)."""
        check_inputs(inputs)
        now = self._clock()
        with self._database.begin() as conn:
            existing = store.find_by_endpoint(conn, tenant_id, user_uri, str(inputs["endpointId"]))
            if existing is not None and not existing.expired(now):
                return existing, False
            if existing is not None:
                store.remove(conn, tenant_id, existing.id)
            application = Application(
                tenant_id=tenant_id,
                id=secrets.token_hex(8),
                user_uri=user_uri,
                user_agent=str(inputs["userAgent"]),
                endpoint_id=str(inputs["endpointId"]),
                culture=str(inputs["culture"]),
                instance_id=inputs.get("instanceId"),
                created_us=now,
                last_seen_us=now,
            )
            store.insert_one(conn, application)
        return application, True

    def get(self, tenant_id: str, user_uri: str, application_id: str) -> Application:
        """The caller's own live application; 404 ApplicationNotFound or 410 once it expired."""
        application, stale = self.peek(tenant_id, user_uri, application_id)
        if stale:
            self.refresh(application)
        return application

    def peek(self, tenant_id: str, user_uri: str, application_id: str) -> tuple[Application, bool]:
        """The caller's own application (404 otherwise), read only; True if `refresh` must run before it is used."""
        with self._database.connect() as conn:
            application = store.find(conn, tenant_id, application_id)
        if application is None or application.user_uri != user_uri:
            raise NotFound("The application does not exist.", subcode="ApplicationNotFound")
        now = self._clock()
        return application, application.expired(now) or now - application.last_seen_us > TOUCH_EVERY_US

    def refresh(self, application: Application) -> None:
        """Record that a peeked application was heard from; if it had expired, remove it and raise 410."""
        now = self._clock()
        expired = application.expired(now)
        with repeatable(), self._database.begin() as conn:  # a second run sets the same, or finds it gone
            if expired:
                store.remove(conn, application.tenant_id, application.id)  # committed before the 410 below
            else:
                store.touch(conn, application.tenant_id, application.id, now)
        if expired:
            raise Gone(
                "The application expired after a long time without activity.", subcode="InactiveApplicationExpired"
            )

    def delete(self, tenant_id: str, user_uri: str, application_id: str) -> None:
        """End an application."""
        self.get(tenant_id, user_uri, application_id)
        with self._database.begin() as conn:
            store.remove(conn, tenant_id, application_id)
