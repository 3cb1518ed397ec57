"""Where blocking database work runs, chosen once per engine.

PostgreSQL is a network round trip away: its work goes to a worker thread, so that the event loop
serves other requests meanwhile.

Embedded SQLite answers a keyed statement in microseconds, far less than a hop to a worker thread
costs; worse, a worker thread running Python beside the event loop makes the two fight over the
interpreter's lock at every statement, since the driver lets go of it around each one. On the
project's machine a 17 µs lookup took 330 µs of CPU (and 10 ms of wall time) with one other busy
Python thread, and a live call's setup spent half its server CPU so (docs/benchmarks.md, ninth
session). So on SQLite the work runs on the event loop, without ever waiting there for the
database's one write lock: while another connection holds it (another server process, an import),
the work's statements fail at once (storage/database.py `without_waiting`) and, having changed
nothing, the work runs again a moment later, the loop serving other requests in between; after the
busy timeout the lock's error stands (a 503). Work that has already changed rows when it meets the
lock waits where it is instead: running it again would make that change twice. Work that took part
in a group commit (storage/commit_groups.py) returns once its group has committed.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio.to_thread
from sqlalchemy import Engine

from callscope.storage.database import lock_was_held, without_waiting

P = ParamSpec("P")
R = TypeVar("R")
FIRST_PAUSE_SECONDS = 0.001  # before running work again that met the lock; doubled each time
LONGEST_PAUSE_SECONDS = 0.05


class Offload:
    """Runs blocking database work on the event loop (SQLite) or in a worker thread (PostgreSQL)."""

    def __init__(self, engine: Engine, patience_seconds: float = 30.0) -> None:
        self._inline = engine.dialect.name == "sqlite"
        self._patience = patience_seconds

    async def __call__(self, function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        if not self._inline:
            return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs))
        give_up = time.monotonic() + self._patience
        pause = FIRST_PAUSE_SECONDS
        while True:
            with without_waiting() as attempt:
                try:
                    result = function(*args, **kwargs)
                except Exception as error:
                    if attempt.wrote or not lock_was_held(error) or time.monotonic() >= give_up:
                        if attempt.group is not None:  # the error may rest on what the group has not yet stored
                            await attempt.group.committed()
                        raise
                else:
                    if attempt.group is not None:  # nothing it did or saw is stored before the group commits
                        await attempt.group.committed()
                    return result
            await asyncio.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE_SECONDS)
