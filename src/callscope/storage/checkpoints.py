"""SQLite's write-ahead log copied into the database file by a thread of its own, not by the event loop.

By default the connection whose commit finds the log past 1,000 pages copies the log into the
database file there and then, and syncs both to disk: on the event loop, that commit stalls every
request for the length of two `fdatasync` calls. Under bench/live.py the loop spent about a fifth of
its wall time inside commits, far more than their CPU (docs/benchmarks.md, eleventh session).

Here the connections kept for work on the loop turn that off (`PRAGMA wal_autocheckpoint=0`) and a
`Checkpointer` thread runs a passive checkpoint every few milliseconds instead: it copies what no
reader still needs, never waits for a lock, and lets go of the interpreter lock while SQLite works,
so the loop goes on serving. The log then stays short, as it does with SQLite's own checkpoints.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Engine

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 0.05  # the log gains a few hundred pages at most in between, under full load


class Checkpointer:
    """A thread that checkpoints one SQLite database's write-ahead log until stopped."""

    def __init__(self, engine: Engine, interval_seconds: float = INTERVAL_SECONDS) -> None:
        self._engine = engine
        self._interval = interval_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.rounds = 0  # checkpoints run, for tests and curiosity

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="callscope-checkpoints", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after a last checkpoint, so the log is copied when the server stops."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            thread.join()

    def checkpoint(self, dbapi_connection: Any) -> tuple[int, int, int]:
        """One passive checkpoint: (1 if it could not finish for a lock, pages in the log, pages copied)."""
        busy, pages, copied = dbapi_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.rounds += 1
        return int(busy), int(pages), int(copied)

    def _run(self) -> None:
        connection = self._engine.raw_connection()
        try:
            while not self._stopping.wait(self._interval):
                self._checkpoint_logged(connection.dbapi_connection)
            self._checkpoint_logged(connection.dbapi_connection)
        finally:
            connection.close()

    def _checkpoint_logged(self, dbapi_connection: Any) -> None:
        try:
            self.checkpoint(dbapi_connection)
        except Exception:  # a full disk, a damaged file: say so, and try again next round
            log.exception("checkpointing the SQLite write-ahead log failed")
