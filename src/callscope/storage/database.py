"""Engine creation and schema migration for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, PoolProxiedConnection, create_engine, event, text
from sqlalchemy.exc import DataError, DBAPIError, OperationalError

from callscope.errors import Busy, CallscopeError, InvalidRequest, Unavailable, UnsupportedStoreVersion
from callscope.storage.checkpoints import Checkpointer

MIGRATIONS = Path(__file__).with_name("migrations")


SQLITE_POOL_SIZE = 20
BULK_CHECKPOINT_PAGES = 16_384  # 64 MiB of SQLite's 4 KiB pages (its own default is 1,000)
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
    """Work tried without waiting for SQLite's write lock; `wrote` once it has changed rows."""

    wrote: bool = False


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
    changed = dbapi_connection is not None and dbapi_connection.total_changes != record.info.get(_CHANGES_AT_CHECKOUT)
    if attempt is not None and changed:
        attempt.wrote = True


class Database:
    """Where the services get their connections.

    From the engine's pool, except for work an Offload runs on the event loop over SQLite
    (`without_waiting`): each such thread keeps one connection for it. Taking a connection from the
    pool and giving it back costs more than most of the statements run in between (about 14 µs of
    the 31 µs an application lookup took in its own transaction, docs/benchmarks.md, tenth session),
    and a live call's setup opens about seventeen. A block that opens another connection while the
    kept one is in use (work nested in work) gets one from the pool, as before.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._keeps = engine.dialect.name == "sqlite"
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

    def close(self) -> None:
        """Stop checkpointing in the background and close the kept connections (they reopen when next needed)."""
        if self.checkpointer is not None:
            self.checkpointer.stop()
        with self._lock:
            kept, self._kept = self._kept, []
        for conn in kept:
            conn.invalidate()  # not back to the pool: it may not checkpoint (checkpoint_in_background)
            conn.close()

    def _lend(self) -> Connection | None:
        if not self._keeps or _ATTEMPT.get() is None or getattr(self._local, "busy", False):
            return None
        conn: Connection | None = getattr(self._local, "connection", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = self._local.connection = self.engine.connect()
            if self.checkpointer is not None and self.checkpointer.running:
                conn.connection.dbapi_connection.execute("PRAGMA wal_autocheckpoint=0").close()  # type: ignore[union-attr]
            with self._lock:
                self._kept.append(conn)
        return conn

    def _returned(self, conn: Connection) -> None:
        self._local.busy = False
        if conn.closed or conn.invalidated:
            self._local.connection = None
            with self._lock:
                self._kept = [c for c in self._kept if c is not conn]
            conn.close()


class _KeptUse:
    """One block's use of a kept connection: what the pool's checkout and checkin would have done around it."""

    __slots__ = ("_commit", "_conn", "_database", "_proxied")

    def __init__(self, database: Database, conn: Connection, commit: bool) -> None:
        self._database, self._conn, self._commit = database, conn, commit
        self._proxied = conn.connection

    def __enter__(self) -> Connection:
        _lend_sqlite(self._proxied.dbapi_connection, self._proxied, self._proxied.info[_CONFIGURED_MS])
        if self._commit:
            self._conn.begin()
        self._database._local.busy = True  # only once entered: a failure above must not leave it marked in use
        return self._conn

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        conn = self._conn
        try:
            if self._commit and kind is None and conn.in_transaction():
                conn.commit()
        finally:
            try:
                if conn.in_transaction():  # an error, a read, or a commit that failed
                    conn.rollback()
            finally:
                _take_back_sqlite(self._proxied.dbapi_connection, self._proxied)
                self._database._returned(conn)


def lock_was_held(error: BaseException) -> bool:
    """True when `error` is a statement that gave up waiting for a lock (SQLite's or PostgreSQL's)."""
    return isinstance(error, DBAPIError) and _waited_for_a_lock(error)


@contextmanager
def bulk_writes(conn: Connection) -> Iterator[Connection]:
    """The connection, made for many large transactions in a row (an import); closed afterwards.

    On SQLite, a commit that finds the write-ahead log longer than `wal_autocheckpoint` pages copies it
    into the database file and syncs it. An import's batches of 1,000 records (~2.5 MB) pass SQLite's
    default of 1,000 pages about every other commit; letting the log reach 64 MiB first copies pages
    that every batch touches (the indexes' inner pages) and syncs the file far less often: the writing
    phase of 20,000 demo records took 18 % less time (docs/decisions/0006). PostgreSQL: unchanged.
    """
    if conn.dialect.name != "sqlite":
        yield conn
        return
    conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={BULK_CHECKPOINT_PAGES}")
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


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration; refuse a database migrated past this code."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
            if current is not None and current not in known_revisions():
                raise _newer_store(current)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OSError as exc:  # pragma: no cover - depends on the machine
        raise Unavailable(f"cannot reach the database: {exc}") from exc


def known_revisions() -> frozenset[str]:
    """Every schema revision this code's migrations define."""
    return frozenset(script.revision for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions())


_REVISION = text("SELECT version_num FROM alembic_version")


class StoreHealth:
    """Says what a failed database operation means for the client, when it means something.

    The store is either unreachable (the server can reach neither the database nor, having no
    backup, anywhere else: `Unavailable`), or it has been migrated by a newer callscope to a schema
    this process does not know (`UnsupportedStoreVersion`), or it refused a value the request
    carried (`InvalidRequest`: PostgreSQL's text holds no NUL character, and any id, name or
    parameter may bring one; the statement failed, so nothing was written). Any other failure stays
    unexplained.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._known = known_revisions()

    def explain(self, error: BaseException) -> CallscopeError | None:
        """The meaning of `error` in callscope's error tree, or None."""
        if not isinstance(error, DBAPIError):
            return None
        if isinstance(error, DataError):
            return InvalidRequest(
                f"The request holds a value the database cannot take: {str(error.orig).splitlines()[0]}.",
                subcode="ParameterValidationFailure",
            )
        if _waited_for_a_lock(error):
            return Busy("The database is busy with other writes; nothing was changed. Try again shortly.")
        try:
            with self._engine.connect() as conn:
                revision = conn.execute(_REVISION).scalar()
        except DBAPIError as probe:
            return Unavailable(f"The database cannot be reached: {type(probe.orig).__name__}.")
        if revision not in self._known:
            return _newer_store(str(revision))
        return None


# PostgreSQL's SQLSTATEs for giving up on a lock: deadlock, lock not available, serialization failure.
_LOCK_STATES = frozenset({"40P01", "55P03", "40001"})


def _waited_for_a_lock(error: DBAPIError) -> bool:
    """SQLite's `database is locked` after its busy timeout, or PostgreSQL giving up on a lock."""
    if getattr(error.orig, "sqlstate", None) in _LOCK_STATES:
        return True
    return isinstance(error, OperationalError) and "locked" in str(error.orig)


def _newer_store(revision: str) -> UnsupportedStoreVersion:
    return UnsupportedStoreVersion(
        f"The database is at schema revision {revision!r}, which this callscope does not know; a newer"
        " version has migrated it. Upgrade this server.",
        subcode="InvalidExchangeServerVersion",
    )
