"""Where blocking database work runs, chosen once per engine.

PostgreSQL is a network round trip away: its work goes to a worker thread, so that the event loop
serves other requests meanwhile.

Embedded SQLite answers a keyed statement in microseconds, far less than a hop to a worker thread
costs; worse, a worker thread running Python beside the event loop makes the two fight over the
interpreter's lock at every statement, since the driver lets go of it around each one. On the
project's machine a 17 µs lookup took 330 µs of CPU (and 10 ms of wall time) with one other busy
Python thread, and a live call's setup spent half its server CPU so (docs/benchmarks.md, ninth
session). So on SQLite the work runs on the event loop, as long as it does not have to wait for the
database's one write lock: while another connection holds it (an import, another process), the
work's transactions fail at once (storage/database.py `without_waiting`) and, having written
nothing, the work runs again in a worker thread, which waits for the lock without holding up the
loop. Work that has already committed a change when it meets the lock waits where it is instead:
running it again would do that change twice.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio.to_thread
from sqlalchemy import Engine

from callscope.storage.database import lock_was_held, without_waiting

P = ParamSpec("P")
R = TypeVar("R")


class Offload:
    """Runs blocking database work on the event loop or in a worker thread, depending on the database."""

    def __init__(self, engine: Engine) -> None:
        self._inline = engine.dialect.name == "sqlite"

    async def __call__(self, function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        if self._inline:
            with without_waiting() as attempt:
                try:
                    return function(*args, **kwargs)
                except Exception as error:
                    if attempt.wrote or not lock_was_held(error):
                        raise
        return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs))
