"""The event channel: storing events per application and serving them to parked P-GETs.

Waiting happens in this process (`Waiters`). Events stored by this process wake its P-GETs
directly. Where other server processes share the database (always possible with PostgreSQL;
with SQLite when the settings say so), every process also learns which applications the others
stored events for (`storage/signals.py`), so an event produced in one process reaches a P-GET
parked in another.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection

from callscope.domain.events import Channel, Event, Step, Timing, acknowledge, release_at, serve, step_for
from callscope.domain.integers import non_negative
from callscope.errors import Conflict, InvalidRequest
from callscope.services.applications import Applications, Clock, system_clock
from callscope.services.offload import Offload
from callscope.storage import applications as applications_store
from callscope.storage import events as store
from callscope.storage import signals
from callscope.storage.database import Database

Key = tuple[str, str]  # tenant, application
log = logging.getLogger("callscope.events")


@dataclass(frozen=True)
class Delivery:
    """What one P-GET answers: batch `batch` with its events, or a pointer to resync at."""

    batch: int
    events: list[Event]
    resync: int | None = None


@dataclass
class _Slot:
    ticket: int
    priority: int
    woken: bool = False  # notified since it last waited
    replaced: bool = False
    waiter: asyncio.Future[None] | None = None  # while it waits


class Waiters:
    """Parked P-GETs of this process, one per application; a newer one replaces the older.

    A setup of a live call parks and wakes about five P-GETs, so waiting is kept lean: a future and a
    timer rather than `asyncio.wait_for` (which wraps the wait in a task of its own), and a wake-up
    from the event loop's own thread is made there and then, without the self-pipe write that
    `call_soon_threadsafe` costs.
    """

    def __init__(self) -> None:
        self._slots: dict[Key, _Slot] = {}
        self._tickets = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None

    def park(self, key: Key, priority: int) -> _Slot:
        """Register a P-GET; the one already parked is answered 409 PGetReplaced (unless it outranks)."""
        self._loop, self._loop_thread = asyncio.get_running_loop(), threading.get_ident()
        current = self._slots.get(key)
        if current is not None and priority < current.priority:
            raise _replaced()
        if current is not None:
            current.replaced = True
            _wake(current)
        slot = _Slot(next(self._tickets), priority)
        self._slots[key] = slot
        return slot

    async def wait(self, slot: _Slot, seconds: float) -> None:
        """Sleep until notified or `seconds` pass; raise if this P-GET was replaced meanwhile."""
        if not slot.woken:
            loop = asyncio.get_running_loop()
            slot.waiter = loop.create_future()
            timer = loop.call_later(max(seconds, 0), _wake, slot)
            try:
                await slot.waiter
            finally:
                timer.cancel()
                slot.waiter = None
        slot.woken = False
        if slot.replaced:
            raise _replaced()

    def leave(self, key: Key, slot: _Slot) -> None:
        """Forget a P-GET that has been answered."""
        if self._slots.get(key) is slot:
            del self._slots[key]

    def notify(self, keys: Iterable[Key]) -> None:
        """Wake the P-GETs parked on these applications (callable from any thread)."""
        loop = self._loop
        if loop is None:
            return
        here = threading.get_ident() == self._loop_thread
        for key in keys:
            slot = self._slots.get(key)
            if slot is not None:
                if here:
                    _wake(slot)
                else:
                    loop.call_soon_threadsafe(_wake, slot)


def _wake(slot: _Slot) -> None:
    slot.woken = True
    if slot.waiter is not None and not slot.waiter.done():
        slot.waiter.set_result(None)


def _replaced() -> Conflict:
    return Conflict("Another event channel request replaced this one.", subcode="PGetReplaced")


class EventChannels:
    """Publishing events and serving P-GETs."""

    def __init__(
        self,
        database: Database,
        applications: Applications,
        offload: Offload,
        waiters: Waiters,
        clock: Clock = system_clock,
        shared: bool = False,
    ) -> None:
        self._database = database
        self._applications = applications
        self._offload = offload
        self._waiters = waiters
        self._clock = clock
        self._shared = shared  # other processes use this SQLite file too

    def publish(self, conn: Connection, tenant_id: str, application_id: str, events: list[Event]) -> Key:
        """Store events inside the caller's transaction; notify the returned key after it commits."""
        now = self._clock()
        store.append(conn, tenant_id, application_id, [e.stamped(now) for e in events])
        signals.signal(conn, tenant_id, application_id)
        return (tenant_id, application_id)

    def notify(self, keys: Iterable[Key]) -> None:
        """Wake this process's parked P-GETs once the events are committed."""
        self._database.after_commit(functools.partial(self._waiters.notify, tuple(keys)))

    async def relay_signals(self) -> None:
        """Wake P-GETs parked here for events other processes store; runs until cancelled."""
        if not signals.listens(self._database.engine, self._shared):
            return
        while True:
            try:
                await signals.listen(self._database.engine, lambda tenant, app: self._waiters.notify([(tenant, app)]))
            except Exception as exc:  # noqa: BLE001 - lost connection: P-GETs still time out; listen again
                log.warning("event signal listener failed (%s); retrying", exc)
                await asyncio.sleep(1)

    async def poll(
        self, tenant_id: str, user_uri: str, application_id: str, ack: int, given: dict[str, int], priority: int
    ) -> Delivery:
        """Answer one P-GET for batch `ack`; `given` timing parameters stick for the channel's later P-GETs."""
        application, stale = await self._offload(self._applications.peek, tenant_id, user_uri, application_id)
        if stale:
            await self._offload(self._applications.refresh, application)
        sticky = {**application.pget_timing, **given}
        if sticky != application.pget_timing:
            await self._offload(self._keep_timing, tenant_id, application_id, sticky)
        timing = Timing(
            timeout=sticky.get("timeout", Timing.timeout),
            medium=sticky.get("medium", Timing.medium),
            low=sticky.get("low", Timing.low),
        )
        channel = application.channel
        step = step_for(channel, ack)
        if step is Step.RESYNC:
            first_open = channel.batch if channel.batch_last_id > channel.acked_id else channel.batch + 1
            return Delivery(ack, [], resync=first_open)
        if step is Step.RESEND:
            events = await self._offload(
                self._between, tenant_id, application_id, channel.acked_id, channel.batch_last_id
            )
            return Delivery(ack, events)
        parked_until = self._clock() + timing.timeout * 1_000_000
        if application.outlived_by(parked_until):
            await self._offload(self._park_until, tenant_id, application_id, parked_until)
        key = (tenant_id, application_id)
        slot = self._waiters.park(key, priority)  # before the first look, so no event slips in between
        try:
            return await self._await_events(key, slot, ack, channel, timing)
        except asyncio.CancelledError:
            return _stopping(ack)
        finally:
            self._waiters.leave(key, slot)

    async def _await_events(self, key: Key, slot: _Slot, ack: int, channel: Channel, timing: Timing) -> Delivery:
        deadline = self._clock() + timing.timeout * 1_000_000
        while True:
            served, pending, release = await self._offload(self._look, key, channel, timing, deadline)
            if served:
                return Delivery(ack, pending)
            await self._waiters.wait(slot, (min(deadline, release or deadline) - self._clock()) / 1_000_000)

    def _look(self, key: Key, channel: Channel, timing: Timing, deadline: int) -> tuple[bool, list[Event], int | None]:
        """The events after `channel`'s last batch, and when they are due. Once they are (or the P-GET's time is
        up) they are served, in the same transaction, as the next batch, acknowledging the last one:
        only if the channel still stands where this P-GET found it, since a newer P-GET may have
        moved it on. Returns whether they were served, the events, and when they are due."""
        tenant_id, application_id = key
        acknowledged = acknowledge(channel)
        with self._database.begin() as conn:
            pending = store.list_between(conn, tenant_id, application_id, acknowledged.acked_id, None)
            now = self._clock()
            release = release_at(pending, timing)
            due = (release is not None and release <= now) or now >= deadline
            if due:  # acknowledged events stay until forget_acknowledged sweeps them
                applications_store.advance_channel(
                    conn, tenant_id, application_id, channel.batch, serve(acknowledged, pending)
                )
        return due, pending, release

    def forget_acknowledged(self) -> int:
        """Drop the events every client has acknowledged (storage/events.py); how many went."""
        with self._database.begin() as conn:
            return store.forget_acknowledged(conn)

    def _keep_timing(self, tenant_id: str, application_id: str, timing: dict[str, int]) -> None:
        with self._database.begin() as conn:
            applications_store.save_pget_timing(conn, tenant_id, application_id, timing)

    def _park_until(self, tenant_id: str, application_id: str, until_us: int) -> None:
        with self._database.begin() as conn:
            applications_store.park_until(conn, tenant_id, application_id, until_us)

    def _between(self, tenant_id: str, application_id: str, after_id: int, upto_id: int | None) -> list[Event]:
        with self._database.connect() as conn:
            return store.list_between(conn, tenant_id, application_id, after_id, upto_id)


def _stopping(ack: int) -> Delivery:
    """The answer to a P-GET still parked when the server stops.

    uvicorn cancels requests that outlast its grace period; a parked P-GET is normal, not a fault,
    so it is answered (nothing served, the channel untouched) with a resync link to the same batch,
    and the client asks for it again from whichever server answers next.
    """
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()
    return Delivery(ack, [], resync=ack)


def parse_timing(values: dict[str, str], floor: int) -> dict[str, int]:
    """The `timeout`, `medium` and `low` a query string gives, checked against UCWA's limits."""
    timing = Timing()
    chosen: dict[str, int] = {}
    faults = []
    for name in ("timeout", "medium", "low"):
        if name not in values:
            continue
        low, high = timing.limits[name]
        low = min(low, floor)
        value = non_negative(values[name])
        if value is None or not low <= value <= high:
            faults.append({"name": name, "reason": f"Expected an integer from {low} to {high}"})
        else:
            chosen[name] = value
    if faults:
        raise InvalidRequest(
            "Invalid event channel parameters.", subcode="ParameterValidationFailure", parameters=faults
        )
    return chosen
