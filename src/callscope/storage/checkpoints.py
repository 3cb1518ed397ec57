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
  log is `RESTART_PAGES` long, a restarting checkpoint holds writers off for the moment it takes to
  copy the last pages, and the next write starts the log over. Writers on the loop meanwhile fail at
  once and try again a moment later (services/offload.py); the checkpoint waits `BUSY_MS` at most
  for readers and writers, then tries again next round.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Engine, PoolProxiedConnection

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 0.05
RESTART_PAGES = 4_000  # 16 MiB of 4 KiB pages; SQLite's own checkpoints start at 1,000
BUSY_MS = 50  # how long a restarting checkpoint waits for the write lock and for readers


class Checkpointer:
    """A thread that checkpoints one SQLite database's write-ahead log until stopped."""

    def __init__(
        self, engine: Engine, interval_seconds: float = INTERVAL_SECONDS, restart_pages: int = RESTART_PAGES
    ) -> None:
        self._engine = engine
        self._interval = interval_seconds
        self._restart_pages = restart_pages
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.rounds = 0  # checkpoint rounds run, for tests and curiosity
        self.restarts = 0  # of which the log was started over

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
            connection.dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_MS}").close()  # type: ignore[union-attr]
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
        """One round: a passive checkpoint, and a restarting one if the log has grown long."""
        self.rounds += 1
        _, pages, _ = dbapi_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if pages >= self._restart_pages:
            busy, _, _ = dbapi_connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
            self.restarts += not busy

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
