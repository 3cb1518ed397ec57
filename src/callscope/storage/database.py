"""Engines for SQLite (embedded) and PostgreSQL, and the connections the services get from them."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, PoolProxiedConnection, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError

from callscope.storage.checkpoints import Checkpointer
from callscope.storage.commit_groups import CommitGroup

SQLITE_POOL_SIZE = 20
BULK_CHECKPOINT_PAGES = 16_384  # 64 MiB of SQLite's 4 KiB pages (its own default is 1,000)
BULK_CACHE_KIB = 64 * 1024  # an import's page cache (SQLite's default is 2 MiB)
POSTGRES_POOL_SIZE = 20  # connections each server process keeps; also its number of worker threads


def connect(url: str, busy_timeout_seconds: float = 30.0) -> Engine:
    """An engine for the URL; SQLite files get WAL, and writes wait that long for the write lock."""
    if url.startswith("sqlite"):
        # Work runs on the event loop (services/offload.py) and must never queue for a connection behind
        # worker threads that wait for the write lock (HTTP imports): the pool has no ceiling (a SQLite connection is a
        # file handle; anyio lends at most 40 threads) and keeps enough open to avoid reconnecting.
        # Last in, first out: work on the event loop takes the connection it just gave back, whose page
        # cache is still warm.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_seconds},
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=-1,
            pool_use_lifo=True,
        )
        milliseconds = int(busy_timeout_seconds * 1000)

        def tune(dbapi_connection: Any, record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={milliseconds}")
            cursor.close()
            record.info[_BUSY_MS] = record.info[_CONFIGURED_MS] = milliseconds

        event.listen(engine, "connect", tune)
        # Pool events, not the connection's: those would put SQLAlchemy's event dispatch in every statement.
        event.listen(engine, "checkout", lambda dbapi, record, _proxy: _lend_sqlite(dbapi, record, milliseconds))
        event.listen(engine, "checkin", _take_back_sqlite)
        return engine
    return create_engine(url, pool_size=POSTGRES_POOL_SIZE, max_overflow=10, pool_pre_ping=True)


_BUSY_MS = "callscope_busy_timeout_ms"  # the connection's busy timeout now
_CONFIGURED_MS = "callscope_configured_busy_timeout_ms"  # and when not in an attempt
_CHANGES_AT_CHECKOUT = "callscope_changes_at_checkout"


@dataclass
class WriteAttempt:
    """Work tried without waiting for SQLite's write lock; `wrote` once it has changed rows, `group` once it
    has used the kept connection inside a group commit (storage/commit_groups.py) it must wait for."""

    wrote: bool = False
    group: CommitGroup | None = None


_ATTEMPT: ContextVar[WriteAttempt | None] = ContextVar("callscope_write_attempt", default=None)


def without_waiting() -> AbstractContextManager[WriteAttempt]:
    """Run work whose SQLite statements fail at once, instead of waiting, while another connection holds the
    write lock: until the work has changed rows. Connections it borrows from the pool after that wait as usual,
    since giving up would leave the work half done. On PostgreSQL nothing changes.

    The caller learns from the attempt whether the work may be run again (it changed nothing). Rows
    changed and rolled back count as written too (SQLite's count of changes cannot tell them apart), which
    errs on the side of not running the work twice.
    """
    return _Attempting()


class _Attempting:
    """`without_waiting`'s block: a class, since every piece of work on the loop enters one (a generator-based
    context manager cost three times as much)."""

    __slots__ = ("_token",)

    def __enter__(self) -> WriteAttempt:
        attempt = WriteAttempt()
        self._token = _ATTEMPT.set(attempt)
        return attempt

    def __exit__(self, *_: object) -> None:
        _ATTEMPT.reset(self._token)


@contextmanager
def repeatable() -> Iterator[None]:
    """Changes made inside may be made again without harm (a timestamp set to now): they do not count as the
    change of the work being attempted, which may then still run again after meeting the lock."""
    attempt = _ATTEMPT.get()
    wrote = attempt is not None and attempt.wrote
    try:
        yield
    finally:
        if attempt is not None:
            attempt.wrote = wrote


def _lend_sqlite(dbapi_connection: Any, record: Any, waiting_ms: int) -> None:
    """Give the connection the busy timeout its borrower allows, and note SQLite's count of changes."""
    attempt = _ATTEMPT.get()
    wanted = 0 if attempt is not None and not attempt.wrote else waiting_ms
    if record.info.get(_BUSY_MS) != wanted:
        dbapi_connection.execute(f"PRAGMA busy_timeout={wanted}").close()
        record.info[_BUSY_MS] = wanted
    record.info[_CHANGES_AT_CHECKOUT] = dbapi_connection.total_changes


def _take_back_sqlite(dbapi_connection: Any, record: Any) -> None:
    """An attempt whose borrowed connection changed rows (committed, or rolled back: either way) has written."""
    attempt = _ATTEMPT.get()
    if attempt is not None and _changed_since_lent(dbapi_connection, record):
        attempt.wrote = True


def _changed_since_lent(dbapi_connection: Any, record: Any) -> bool:
    """Whether the connection has changed rows since `_lend_sqlite` lent it."""
    return dbapi_connection is not None and bool(
        dbapi_connection.total_changes != record.info.get(_CHANGES_AT_CHECKOUT)
    )


class Database:
    """Where the services get their connections.

    From the engine's pool, except for work an Offload runs on the event loop over SQLite
    (`without_waiting`): each such thread keeps one connection for it. Taking a connection from the
    pool and giving it back costs more than most of the statements run in between (about 14 µs of
    the 31 µs an application lookup took in its own transaction, docs/benchmarks.md, tenth session),
    and a live call's setup opens about seventeen. A block that opens another connection while the
    kept one is in use (work nested in work) gets one from the pool, as before.
    """

    def __init__(self, engine: Engine, group_commit: bool = True) -> None:
        self.engine = engine
        self._keeps = engine.dialect.name == "sqlite"
        # Off when other server processes write to the same file: a group holds the write lock from one turn of
        # the loop to the next, and their writers, which back off when they meet it, lost a fifth of their rate.
        self._group_commit = group_commit
        self._local = threading.local()
        self._kept: list[Connection] = []  # every thread's, for close()
        self._lock = threading.Lock()
        self.checkpointer = Checkpointer(engine) if self._keeps else None

    def checkpoint_in_background(self) -> None:
        """SQLite: from now on a thread copies the write-ahead log into the file, and work on the event loop
        never does (storage/checkpoints.py). Until close()."""
        if self.checkpointer is not None:
            self.checkpointer.start()

    def connect(self) -> AbstractContextManager[Connection]:
        """A connection; a transaction its statements began is rolled back at the end of the block."""
        kept = self._lend()
        return self.engine.connect() if kept is None else _KeptUse(self, kept, commit=False)

    def begin(self) -> AbstractContextManager[Connection]:
        """A connection in a transaction, committed at the end of the block or rolled back on an error."""
        kept = self._lend()
        return self.engine.begin() if kept is None else _KeptUse(self, kept, commit=True)

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run `action` once what this thread's work has written is committed: at once, or when its group commits."""
        group: CommitGroup | None = getattr(self._local, "group", None)
        if group is not None and group.open:
            group.after_commit(action)
        else:
            action()

    def close(self) -> None:
        """Stop checkpointing in the background and close the kept connections (they reopen when next needed)."""
        self._commit_group()  # before the checkpoint thread's last round, which then copies it too
        if self.checkpointer is not None:
            self.checkpointer.stop()
        with self._lock:
            kept, self._kept = self._kept, []
        for conn in kept:
            conn.invalidate()  # not back to the pool: it may not checkpoint (checkpoint_in_background)
            conn.close()

    def _lend(self) -> Connection | None:
        if not self._keeps:
            return None
        busy = getattr(self._local, "busy", False)
        if _ATTEMPT.get() is None or busy:
            if not busy:
                self._commit_group()  # a pooled connection must see the group's work, and may need the write lock
            return None
        conn: Connection | None = getattr(self._local, "connection", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = self._local.connection = self.engine.connect()
            if self.checkpointer is not None and self.checkpointer.running:
                conn.connection.dbapi_connection.execute("PRAGMA wal_autocheckpoint=0").close()  # type: ignore[union-attr]
            with self._lock:
                self._kept.append(conn)
        return conn

    def _group_for(self, conn: Connection, opening: bool) -> CommitGroup | None:
        """This thread's open group; a new one for a block that may write, when an event loop runs here."""
        group: CommitGroup | None = getattr(self._local, "group", None)
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if group is not None and group.open:
            if group.loop is loop:
                return group
            group.commit()  # its loop stopped before the turn that would have committed it
        if not opening or loop is None or not self._group_commit:
            return None
        group = self._local.group = CommitGroup(conn, loop, self._committed)
        return group

    def _committed(self, dbapi_connection: Any) -> None:
        """Right after a group commits, with none of the loop's work in a transaction: a log restart, when wanted."""
        if self.checkpointer is not None and self.checkpointer.restart_wanted:
            self.checkpointer.restart_after_commit(dbapi_connection)

    def _commit_group(self) -> None:
        group: CommitGroup | None = getattr(self._local, "group", None)
        if group is not None:
            group.commit()

    def _returned(self, conn: Connection) -> None:
        self._local.busy = False
        if conn.closed or conn.invalidated:
            group: CommitGroup | None = getattr(self._local, "group", None)
            if group is not None:
                group.abandon(ConnectionError("the database connection broke before the work was committed"))
            self._local.connection = None
            with self._lock:
                self._kept = [c for c in self._kept if c is not conn]
            conn.close()


class _KeptUse:
    """One block's use of a kept connection: what the pool's checkout and checkin would have done around it."""

    __slots__ = ("_commit", "_conn", "_database", "_group", "_proxied")

    def __init__(self, database: Database, conn: Connection, commit: bool) -> None:
        self._database, self._conn, self._commit = database, conn, commit
        self._proxied = conn.connection
        self._group: CommitGroup | None = None

    def __enter__(self) -> Connection:
        _lend_sqlite(self._proxied.dbapi_connection, self._proxied, self._proxied.info[_CONFIGURED_MS])
        group = self._database._group_for(self._conn, opening=self._commit)
        if group is not None:
            if self._commit:
                group.enter()
            if self._commit or group.changed:  # a read of what is not yet committed waits for the commit too
                attempt = _ATTEMPT.get()
                if attempt is not None:
                    attempt.group = group
        elif self._commit:
            self._conn.begin()
        self._group = group
        self._database._local.busy = True  # only once entered: a failure above must not leave it marked in use
        return self._conn

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        conn, group = self._conn, self._group
        try:
            if group is not None and self._commit:
                group.leave(keep=kind is None)
            elif group is not None and _changed_since_lent(self._proxied.dbapi_connection, self._proxied):
                # a read block's changes are never kept; in a group, only the whole group can undo them
                raise RuntimeError("a read block changed rows inside a group commit")
            elif self._commit and kind is None and conn.in_transaction():
                conn.commit()
        except BaseException as error:
            if group is not None:
                group.abandon(error)
                conn.invalidate()  # whatever state SQLite is in, this connection is not used again
            raise
        finally:
            try:
                if group is None and conn.in_transaction():  # an error, a read, or a commit that failed
                    conn.rollback()
            finally:
                _take_back_sqlite(self._proxied.dbapi_connection, self._proxied)
                self._database._returned(conn)


def lock_was_held(error: BaseException) -> bool:
    """True when `error` is a statement that gave up waiting for a lock (SQLite's or PostgreSQL's)."""
    return isinstance(error, DBAPIError) and waited_for_a_lock(error)


@contextmanager
def bulk_writes(conn: Connection) -> Iterator[Connection]:
    """The connection, made for many large transactions in a row (an import); closed afterwards.

    On SQLite, a commit that finds the write-ahead log longer than `wal_autocheckpoint` pages copies it
    into the database file and syncs it. An import's batches of 1,000 records (~2.5 MB) pass SQLite's
    default of 1,000 pages about every other commit; letting the log reach 64 MiB first copies pages
    that every batch touches (the indexes' inner pages) and syncs the file far less often: the writing
    phase of 20,000 demo records took 18 % less time (docs/decisions/0006). Its page cache grows from
    SQLite's 2 MiB to BULK_CACHE_KIB: ids and participants land all over their indexes, which outgrow
    2 MiB after some ten thousand records; the writing phase of 100,000 took 12 % less time.
    PostgreSQL: unchanged.
    """
    if conn.dialect.name != "sqlite":
        yield conn
        return
    conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={BULK_CHECKPOINT_PAGES}")
    conn.exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
    conn.commit()
    try:
        yield conn
    finally:
        conn.invalidate()  # closed, not pooled: no later user should inherit the setting


def sqlite_commit_count(connection: PoolProxiedConnection) -> int:
    """SQLite's count of the commits other connections have made to the file (`PRAGMA data_version`):
    it moves exactly when another connection has committed since the last look, and reads no table."""
    return int(connection.execute("PRAGMA data_version").fetchone()[0])


def worker_threads(engine: Engine) -> int | None:
    """How many worker threads may do database work at once, where the pool sets a limit (None: no limit).

    On PostgreSQL every query runs in a worker thread. With more threads than pooled connections,
    the pool opened extra connections and closed them on return: a new server backend for about
    every call setup (bench/live.py), paid by both processes. As many threads as connections, none
    waits for one and none is opened twice.
    """
    return None if engine.dialect.name == "sqlite" else POSTGRES_POOL_SIZE


# PostgreSQL's SQLSTATEs for giving up on a lock: deadlock, lock not available, serialization failure.
_LOCK_STATES = frozenset({"40P01", "55P03", "40001"})


def waited_for_a_lock(error: DBAPIError) -> bool:
    """SQLite's `database is locked` after its busy timeout, or PostgreSQL giving up on a lock."""
    if getattr(error.orig, "sqlstate", None) in _LOCK_STATES:
        return True
    return isinstance(error, OperationalError) and "locked" in str(error.orig)
