"""Where blocking database work runs, chosen once per engine.

Embedded SQLite answers a keyed lookup in microseconds, less than a hop to a worker thread costs,
so its reads run inline. PostgreSQL is a network round trip away: its reads go to a worker thread
so that the event loop keeps serving other requests meanwhile. Writes go to a worker thread
(`write`): a SQLite writer waits for the one write lock (up to the busy timeout, while another
writer holds it: an import batch, a live call, another process), and the event loop must not wait
with it. The one exception is the notifier's outbox claim, whose reasons are where it runs
(services/notifier.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio.to_thread
from sqlalchemy import Engine

P = ParamSpec("P")
R = TypeVar("R")


class Offload:
    """Runs a blocking read inline or in a worker thread, depending on the database; writes in a thread."""

    def __init__(self, engine: Engine) -> None:
        self._inline = engine.dialect.name == "sqlite"

    async def __call__(self, function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        if self._inline:
            return function(*args, **kwargs)
        return await self.write(function, *args, **kwargs)

    async def write(self, function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run `function`, which writes (or may), in a worker thread."""
        return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs))
