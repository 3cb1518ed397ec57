"""Delivers the outbox: at least once, retried with backoff across restarts, then given up.

Every process polls the outbox (at half the first retry's delay: twice a second by default) and
looks at once when it has just queued notifications itself, so a new notification never waits for
the poll. It claims due messages for a short lease,
so several processes on one PostgreSQL never send the same message at the same time, and a
message claimed by a process that died is sent again once its lease ends. A notification that
still fails after `give_up_us` is dropped and its subscription removed, with a
`subscriptionRemoved` lifecycle notification to the subscription's lifecycle URL, as Graph does
with endpoints that keep failing. Notifications for subscriptions that expired or were deleted
meanwhile are dropped unsent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import msgspec
from sqlalchemy import Connection

from callscope.domain.subscriptions import lifecycle
from callscope.services.applications import Clock
from callscope.services.offload import Offload
from callscope.services.webhooks import Webhooks
from callscope.storage import outbox
from callscope.storage import subscriptions as store
from callscope.storage.database import Database
from callscope.storage.outbox import Message, Outgoing

log = logging.getLogger("callscope.notifier")
MAX_BATCHES_IN_FLIGHT = 8  # claimed batches being sent at once, per process


@dataclass(frozen=True)
class Retries:
    """How often and how long delivery is retried."""

    first_us: int = 1_000_000  # the first retry; each next one waits twice as long
    longest_us: int = 600_000_000
    give_up_us: int = 4 * 3600 * 1_000_000  # Graph retries for up to four hours
    poll_seconds: float = 0.1  # looks for due retries and other processes' messages this often
    lease_us: int = 30_000_000
    batch: int = 50


class Notifier:
    """Sends what the outbox holds."""

    def __init__(
        self, database: Database, webhooks: Webhooks, offload: Offload, clock: Clock, retries: Retries
    ) -> None:
        self._database = database
        self._webhooks = webhooks
        self._offload = offload
        self._clock = clock
        self._retries = retries
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken: asyncio.Event | None = None

    def wake(self) -> None:
        """Look at the outbox now rather than at the next poll (callable from any thread)."""
        if self._loop is not None and self._woken is not None:
            self._loop.call_soon_threadsafe(self._woken.set)

    async def run(self) -> None:
        """Deliver until cancelled. Each claimed batch is sent by a task of its own while the next is claimed:
        a batch waits for its subscribers' answers, and new notifications must not wait behind it (under
        load they did, for 150 ms at the median: bench/bridge.py, ninth session). Claims are leased, so no
        message is in two batches; the order in which notifications arrive is not promised (nor by Graph)."""
        self._loop, self._woken = asyncio.get_running_loop(), asyncio.Event()
        sending: set[asyncio.Task[None]] = set()
        try:
            while True:
                if len(sending) >= MAX_BATCHES_IN_FLIGHT:
                    await asyncio.wait(sending, return_when=asyncio.FIRST_COMPLETED)
                try:
                    messages, live = await self._offload(self._claim)
                except Exception:
                    log.exception("claiming notifications failed; trying again")
                    messages, live = [], []
                if messages:
                    task = asyncio.create_task(self._send(messages, live))
                    sending.add(task)
                    task.add_done_callback(sending.discard)
                if len(messages) < self._retries.batch:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._woken.wait(), self._retries.poll_seconds)
                    self._woken.clear()
        finally:
            for task in sending:
                task.cancel()
            await asyncio.gather(*sending, return_exceptions=True)

    async def _send(self, messages: list[Message], live: list[Message]) -> None:
        """Post a claimed batch and settle each message by its answer."""
        # The outbox is claimed and settled on the event loop on SQLite (services/offload.py), in a worker
        # thread on PostgreSQL.
        try:
            results = await asyncio.gather(*(self._webhooks.deliver(m.url, m.body) for m in live))
            await self._offload(self._settle, messages, dict(zip((m.id for m in live), results, strict=True)))
        except Exception:  # the lease runs out and the batch is claimed again
            log.exception("delivering notifications failed; they are tried again")

    def _claim(self) -> tuple[list[Message], list[Message]]:
        """Due messages, and those of them still worth sending (lifecycle, or for a live subscription)."""
        now = self._clock()
        with self._database.begin() as conn:
            messages = outbox.claim(conn, now, self._retries.lease_us, self._retries.batch)
            live = [m for m in messages if m.lifecycle or self._subscribed(conn, m, now)]
        return messages, live

    @staticmethod
    def _subscribed(conn: Connection, message: Message, now: int) -> bool:
        subscription = store.find(conn, message.tenant_id, message.subscription_id)
        return subscription is not None and subscription.expires_us > now

    def _settle(self, messages: list[Message], results: dict[int, bool]) -> None:
        now = self._clock()
        with self._database.begin() as conn:
            for message in messages:
                ok = results.get(message.id)
                if ok or ok is None:  # delivered, or nobody to deliver to any more
                    outbox.delivered(conn, message.id)
                elif now - message.created_us >= self._retries.give_up_us:
                    outbox.delivered(conn, message.id)
                    if not message.lifecycle:
                        self._remove_subscription(conn, message, now)
                else:
                    wait = min(self._retries.first_us * 2**message.attempts, self._retries.longest_us)
                    outbox.retry(conn, message.id, now + wait)

    @staticmethod
    def _remove_subscription(conn: Connection, message: Message, now: int) -> None:
        subscription = store.find(conn, message.tenant_id, message.subscription_id)
        if subscription is None:
            return
        log.warning("removing subscription %s: %s keeps failing", subscription.id, subscription.notification_url)
        store.remove(conn, subscription.tenant_id, subscription.id)
        outbox.remove_for(conn, subscription.tenant_id, subscription.id)
        if subscription.lifecycle_url:
            body = msgspec.json.encode({"value": [lifecycle(subscription, "subscriptionRemoved")]})
            item = Outgoing(subscription.tenant_id, subscription.id, subscription.lifecycle_url, body, lifecycle=True)
            outbox.add(conn, [item], now)
