"""Parked P-GETs of one process: woken by events stored on the loop or in another thread, by their timeout,
or by a newer P-GET of the same application that replaces them."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from callscope.errors import Conflict
from callscope.services.events import Waiters

KEY = ("t", "app")


@pytest.mark.parametrize("where", ["the loop", "another thread"])
def test_a_notice_wakes_the_parked_request(where: str) -> None:
    async def scenario() -> float:
        waiters = Waiters()
        slot = waiters.park(KEY, 0)
        if where == "the loop":
            asyncio.get_running_loop().call_later(0.05, waiters.notify, [KEY])
        else:
            threading.Timer(0.05, waiters.notify, [[KEY]]).start()
        started = time.monotonic()
        await waiters.wait(slot, 30)
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 5


def test_a_notice_before_the_wait_is_not_lost_and_counts_once() -> None:
    async def scenario() -> float:
        waiters = Waiters()
        slot = waiters.park(KEY, 0)
        waiters.notify([KEY, ("t", "nobody parked here")])
        await asyncio.wait_for(waiters.wait(slot, 30), timeout=5)  # at once: the notice came before
        started = time.monotonic()
        await waiters.wait(slot, 0.2)  # no new notice: only the timeout ends this one
        return time.monotonic() - started

    assert asyncio.run(scenario()) >= 0.15


def test_a_newer_request_replaces_the_parked_one_unless_it_ranks_lower() -> None:
    async def scenario() -> None:
        waiters = Waiters()
        first = waiters.park(KEY, 1)
        with pytest.raises(Conflict):
            waiters.park(KEY, 0)  # lower priority than the parked one: refused
        waiting = asyncio.ensure_future(waiters.wait(first, 30))
        await asyncio.sleep(0)
        second = waiters.park(KEY, 1)
        with pytest.raises(Conflict) as replaced:
            await asyncio.wait_for(waiting, timeout=5)
        assert replaced.value.subcode == "PGetReplaced"
        waiters.leave(KEY, first)  # the replaced one leaving does not unpark the newer one
        waiters.notify([KEY])
        await asyncio.wait_for(waiters.wait(second, 30), timeout=5)
        waiters.leave(KEY, second)

    asyncio.run(scenario())


def test_a_cancelled_wait_leaves_no_timer_behind() -> None:
    async def scenario() -> None:
        waiters = Waiters()
        slot = waiters.park(KEY, 0)
        waiting = asyncio.ensure_future(waiters.wait(slot, 30))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert slot.waiter is None
        waiters.notify([KEY])  # still parked: a notice is kept for its next wait
        await asyncio.wait_for(waiters.wait(slot, 30), timeout=5)

    asyncio.run(scenario())
