"""SQLite's write-ahead log copied into the database file by a thread of its own, not by the event loop.

By default the connection whose commit finds the log past 1,000 pages copies the log into the
database file there and then, and syncs both to disk: on the event loop, that commit stalls every
request for the length of two `fdatasync` calls. Under bench/live.py the loop spent about a fifth of
its wall time inside commits, far more than their CPU (docs/benchmarks.md, eleventh session).

Here the connections kept for work on the loop turn that off (`PRAGMA wal_autocheckpoint=0`) and a
`Checkpointer` thread checkpoints instead, letting go of the interpreter lock while SQLite works, so
the loop goes on serving:
- every few milliseconds a passive checkpoint copies what no reader still needs, without waiting
  for any lock;
- a passive checkpoint never lets the log start again from its beginning while writes go on (the
  next writer restarts it only if every page was copied when its transaction began), so once the
  log is `RESTART_PAGES` long a restarting checkpoint is wanted: it holds writers off for the moment
  it takes to copy the last pages, waits for readers, and the next write starts the log over. The
  loop's connection makes it right after its next commit (`restart_after_commit`, from
  storage/commit_groups.py), when none of the loop's work is in a transaction; the thread makes it
  itself only if the loop has not within `GRACE_ROUNDS` rounds (no writes on the loop, or a writer
  elsewhere in the way).

A restart made by the thread has to wait for a moment when no group is open. Tried with the loop's work
held back for it, each took 30 to 100 ms, about twice a second, as the thread's every step waited up to
5 ms for the interpreter lock.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Engine, PoolProxiedConnection

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 0.05
RESTART_PAGES = 4_000  # 16 MiB of 4 KiB pages; SQLite's own checkpoints start at 1,000
BUSY_MS = 50  # how long the thread's own restart waits for the write lock and for readers
GRACE_ROUNDS = 4  # rounds the thread leaves the restart to the loop before making it itself


class Checkpointer:
    """A thread that checkpoints one SQLite database's write-ahead log until stopped."""

    def __init__(
        self,
        engine: Engine,
        interval_seconds: float = INTERVAL_SECONDS,
        restart_pages: int = RESTART_PAGES,
        grace_rounds: int = GRACE_ROUNDS,
    ) -> None:
        self._engine = engine
        self._interval = interval_seconds
        self._restart_pages = restart_pages
        self._grace_rounds = grace_rounds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.rounds = 0  # checkpoint rounds run, for tests and curiosity
        self.restarts = 0  # times the log was started over
        self.restarts_missed = 0  # restarts tried that found a writer or a reader in the way
        # Set once the log is long: the loop's kept connection then restarts it after its next commit. The loop's
        # work, committed in groups (storage/commit_groups.py), holds the write lock from one turn to the next and
        # would leave a thread no moment to do it.
        self.restart_wanted = False
        self._rounds_wanted = 0
        self._restarted_at = -1  # the log's length when last restarted: the next write starts it from the beginning

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Open the thread's connection here, then start it: if the store cannot be opened, this raises, and
        no connection of the loop's ever leaves its checkpoints to a thread that is not there (`running`)."""
        if self.running:
            return
        connection = self._engine.raw_connection()
        try:
            connection.dbapi_connection.execute("PRAGMA busy_timeout=0").close()  # type: ignore[union-attr]
        except BaseException:
            _discard(connection)
            raise
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, args=(connection,), name="callscope-checkpoints", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after a last checkpoint, so the log is copied when the server stops."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            thread.join()

    def checkpoint(self, dbapi_connection: Any) -> None:
        """One round: a passive checkpoint; once the log has grown long, a restart is wanted (`restart_after_commit`),
        and made here if nobody has made it after `grace_rounds` rounds."""
        self.rounds += 1
        _, pages, _ = dbapi_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if pages < self._restart_pages or pages == self._restarted_at:  # short, or restarted and not written since
            self.restart_wanted, self._rounds_wanted = False, 0
            return
        self.restart_wanted = True
        self._rounds_wanted += 1
        if self._rounds_wanted > self._grace_rounds:  # no writer on the loop took it up: nothing waits on this thread
            dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_MS}").close()
            try:
                self._restart(dbapi_connection)
            finally:
                dbapi_connection.execute("PRAGMA busy_timeout=0").close()

    def restart_after_commit(self, dbapi_connection: Any) -> None:
        """Called by the event loop's connection right after it committed, when `restart_wanted`: the restart
        there and then. No writer or reader of the loop is in the way, and no thread waits for the interpreter
        lock meanwhile; it copies only what the last passive round left, in a few milliseconds about once a
        second under load. If another connection is in the way, the loop's next commit tries again."""
        before = dbapi_connection.execute("PRAGMA busy_timeout").fetchone()[0]
        dbapi_connection.execute("PRAGMA busy_timeout=0").close()
        try:
            self._restart(dbapi_connection)
        finally:
            dbapi_connection.execute(f"PRAGMA busy_timeout={before}").close()

    def _restart(self, dbapi_connection: Any) -> None:
        busy, pages, _ = dbapi_connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        if busy:
            self.restarts_missed += 1
        else:
            self.restart_wanted, self._rounds_wanted, self._restarted_at = False, 0, pages
            self.restarts += 1

    def _run(self, connection: PoolProxiedConnection) -> None:
        try:
            while not self._stopping.wait(self._interval):
                self._checkpoint_logged(connection.dbapi_connection)
            self._checkpoint_logged(connection.dbapi_connection)
        finally:
            _discard(connection)

    def _checkpoint_logged(self, dbapi_connection: Any) -> None:
        try:
            self.checkpoint(dbapi_connection)
        except Exception:  # a full disk, a damaged file: say so, and try again next round
            log.exception("checkpointing the SQLite write-ahead log failed")


def _discard(connection: PoolProxiedConnection) -> None:
    """Close the connection for good: not back to the pool with the thread's busy timeout."""
    connection.invalidate()
    connection.close()
