"""Group commit: on SQLite, the work that one turn of the event loop does on its kept connection commits once.

A live call's setup made about eight commits, one per request that wrote, and each commit wrote
every page it had changed into the write-ahead log again (the events index, the applications
table, the calls) and took and dropped SQLite's file locks. Grouped, the requests served in one
turn of the loop share one transaction: each request's block is a savepoint inside it, released
when the block succeeds and rolled back alone when it fails, and the transaction commits at the
start of the next turn (docs/decisions/0013).

No answer may go out before what it says is stored: work that used the connection while a group
was open (a read too, since it saw what the group had not yet committed) waits for the group's
commit before its caller goes on (services/offload.py). If the commit fails, all of the group's
work is undone and each of its callers gets the error. What must happen only once the work is
stored (waking parked P-GETs, telling the record cache, starting notification delivery) is handed
to `after_commit`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

log = logging.getLogger("callscope.storage")
_SAVEPOINT = "callscope_work"


class CommitGroup:
    """The open transaction of one turn of the event loop on one kept connection."""

    __slots__ = (
        "_actions",
        "_changes_at_start",
        "_conn",
        "_dbapi",
        "_failure",
        "_on_commit",
        "_waiting",
        "loop",
        "open",
    )

    def __init__(self, conn: Connection, loop: asyncio.AbstractEventLoop, on_commit: Callable[[Any], None]) -> None:
        self._conn = conn
        self._on_commit = on_commit  # told the DBAPI connection right after each commit (a log restart)
        dbapi: Any = conn.connection.dbapi_connection
        self._dbapi = dbapi
        self.loop = loop
        self._waiting: list[asyncio.Future[None]] = []
        self._actions: dict[Callable[[], None], None] = {}  # insertion-ordered, each action once
        self._failure: BaseException | None = None
        if not conn.in_transaction():
            conn.begin()
        # An explicit BEGIN: a savepoint opened outside a transaction would start one of its own, and its
        # release would commit it.
        if not dbapi.in_transaction:
            dbapi.execute("BEGIN")
        self._changes_at_start = dbapi.total_changes
        self.open = True
        loop.call_soon(self.commit)

    @property
    def changed(self) -> bool:
        """Whether the group's work has changed rows (rolled-back changes count too): a read then sees
        what is not yet committed."""
        return bool(self._dbapi.total_changes != self._changes_at_start)

    def enter(self) -> None:
        """A block of work that may write starts: everything it changes can be undone on its own."""
        self._dbapi.execute(f"SAVEPOINT {_SAVEPOINT}")

    def leave(self, keep: bool) -> None:
        """The block ends: its changes stay in the group (`keep`) or are undone."""
        if not keep:
            self._dbapi.execute(f"ROLLBACK TO {_SAVEPOINT}")
        self._dbapi.execute(f"RELEASE {_SAVEPOINT}")

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run `action` once the group has committed (not at all if it fails)."""
        self._actions[action] = None

    async def committed(self) -> None:
        """Return once the group has committed; raise what made its commit fail."""
        if self.open:
            waiter = self.loop.create_future()
            self._waiting.append(waiter)
            await waiter  # a cancelled caller cancels its own future only
        elif self._failure is not None:
            raise self._failure

    def commit(self) -> None:
        """Commit (at the next turn of the loop, or earlier when another connection needs the store)."""
        if not self.open:
            return
        self.open = False
        try:
            self._conn.commit()
            if self._dbapi.in_transaction:  # statements run on the cursor alone, which SQLAlchemy did not see
                self._dbapi.commit()
        except Exception as error:  # noqa: BLE001 - every caller of the group gets it
            log.warning("a group of work could not be committed: %s", error)
            self._undo()
            self._failure = error
            self._settle(error)
            return
        self._settle(None)
        try:
            self._on_commit(self._dbapi)
        except Exception:
            log.exception("the step after a group's commit failed")
        for action in self._actions:
            try:
                action()
            except Exception:
                log.exception("an action after a commit failed")

    def abandon(self, reason: BaseException) -> None:
        """The connection broke: nothing of the group is stored, and its callers learn why."""
        if self.open:
            self.open = False
            self._failure = reason
            self._settle(reason)

    def _undo(self) -> None:
        try:
            self._conn.rollback()
            if self._dbapi.in_transaction:
                self._dbapi.rollback()
        except Exception:  # a connection that cannot roll back is not used again
            log.exception("rolling back a failed group")
            self._conn.invalidate()

    def _settle(self, failure: BaseException | None) -> None:
        for waiter in self._waiting:
            if not waiter.done():
                if failure is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(failure)
        self._waiting.clear()
