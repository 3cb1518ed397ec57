"""Graph change-notification subscriptions: create (after the handshake), read, renew, delete; and
the notifications a written record queues for them."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import msgspec
from sqlalchemy import Connection

from callscope.domain import subscriptions as domain
from callscope.domain.subscriptions import Subscription
from callscope.errors import InvalidRequest, NotFound
from callscope.services.applications import Clock
from callscope.services.webhooks import Webhooks
from callscope.storage import outbox
from callscope.storage import subscriptions as store
from callscope.storage.database import Database


class Subscriptions:
    """Subscription use cases; a tenant sees only its own subscriptions."""

    def __init__(self, database: Database, webhooks: Webhooks, clock: Clock) -> None:
        self._database = database
        self._webhooks = webhooks
        self._clock = clock
        self.on_queued: Callable[[], None] = lambda: None  # the notifier's wake-up, once it exists
        self.on_written: Callable[[], None] = lambda: None  # told after records were written (the read cache)
        self._queued = threading.local()  # this thread's transaction wrote records, queued notifications

    def committed(self) -> None:
        """Call after a transaction that may have announced records: once it is committed (storage/commit_groups.py),
        tells the record cache that records changed, and wakes delivery at once."""
        self._database.after_commit(self._announce)

    def _announce(self) -> None:
        if getattr(self._queued, "written", False):
            self._queued.written = False
            self.on_written()
        if getattr(self._queued, "pending", False):
            self._queued.pending = False
            self.on_queued()

    async def create(self, tenant_id: str, creator_id: str, body: Any) -> Subscription:
        """Validate the request, then the URLs by handshake; 400 when a URL does not echo."""
        subscription = domain.requested(body, tenant_id, str(uuid.uuid4()), creator_id, self._clock())
        for name, url in (
            ("notificationUrl", subscription.notification_url),
            ("lifecycleNotificationUrl", subscription.lifecycle_url),
        ):
            if url is not None and not await self._webhooks.validate(url):
                raise InvalidRequest(
                    f"Subscription validation request failed: {name} did not answer the validation token"
                    " with 200 and the token as text/plain within 10 seconds.",
                    target=name,
                )
        with self._database.begin() as conn:
            store.add(conn, subscription)
        return subscription

    def get(self, tenant_id: str, subscription_id: str) -> Subscription:
        """One live subscription, or 404."""
        with self._database.connect() as conn:
            found = store.find(conn, tenant_id, subscription_id)
        if found is None or found.expires_us <= self._clock():
            raise NotFound(f"The subscription {subscription_id} does not exist.")
        return found

    def list(self, tenant_id: str) -> list[Subscription]:
        """The tenant's live subscriptions."""
        with self._database.connect() as conn:
            return store.find_live(conn, tenant_id, self._clock())

    def renew(self, tenant_id: str, subscription_id: str, body: Any) -> Subscription:
        """PATCH expirationDateTime."""
        renewed = domain.renewed(self.get(tenant_id, subscription_id), body, self._clock())
        with self._database.begin() as conn:
            store.save_expiry(conn, renewed)
        return renewed

    def delete(self, tenant_id: str, subscription_id: str) -> None:
        """Remove a subscription and what it still had to receive."""
        self.get(tenant_id, subscription_id)
        with self._database.begin() as conn:
            store.remove(conn, tenant_id, subscription_id)
            outbox.remove_for(conn, tenant_id, subscription_id)

    def announce(self, conn: Connection, tenant_id: str, records: Iterable[tuple[str, int, frozenset[str]]]) -> None:
        """Queue notifications about written records (id, version, participant ids), in the writer's transaction."""
        self._queued.written = True
        now = self._clock()
        live = store.find_live(conn, tenant_id, now)
        if not live:
            return
        messages = []
        for record_id, version, participants in records:
            for subscription in live:
                change = subscription.wants(version, participants, now)
                if change is not None:
                    body = {"value": [domain.notification(subscription, change, record_id)]}
                    messages.append(
                        outbox.Outgoing(
                            tenant_id, subscription.id, subscription.notification_url, msgspec.json.encode(body)
                        )
                    )
        outbox.add(conn, messages, now)
        if messages:
            self._queued.pending = True
