"""Statements compiled once and run on the driver's own cursor: the event channel's hot path.

A live call's requests run a handful of tiny statements each (an application by key, the events
after an id, a conditional update). SQLAlchemy's `Connection.execute` spends several times a
SQLite key lookup's own cost around it: a cache key, an execution context, a result wrapper
(about 99 µs against 16 µs for one application lookup on the project's machine). `Compiled`
keeps the statement written with SQLAlchemy Core, compiles it once per dialect, and hands the
SQL and the parameters to the cursor of the connection the caller's transaction already holds,
so it runs inside that transaction like any other statement.

Only for statements whose every parameter is a named `bindparam` and whose result columns need
no conversion (integers, text, bytes): no defaults, no result processing happen here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql.expression import ClauseElement

Params = Mapping[str, Any]
Arguments = Callable[[Params], Any]  # the parameters as the driver takes them


class Compiled:
    """One Core statement, run with named parameters on the DBAPI cursor."""

    def __init__(self, statement: ClauseElement) -> None:
        self._statement = statement
        self._by_dialect: dict[str, tuple[str, Arguments]] = {}

    def rows(self, conn: Connection, params: Params) -> list[tuple[Any, ...]]:
        """Every row the statement returns."""
        cursor = self._execute(conn, params)
        try:
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def first(self, conn: Connection, params: Params) -> dict[str, Any] | None:
        """The first row by column name, or None."""
        cursor = self._execute(conn, params)
        try:
            row = cursor.fetchone()
            return None if row is None else dict(zip((c[0] for c in cursor.description), row, strict=True))
        finally:
            cursor.close()

    def all(self, conn: Connection, params: Params) -> list[dict[str, Any]]:
        """Every row by column name."""
        cursor = self._execute(conn, params)
        try:
            names = [c[0] for c in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def run(self, conn: Connection, params: Params) -> int:
        """Run a change; the number of rows it touched."""
        cursor = self._execute(conn, params)
        touched = int(cursor.rowcount)
        cursor.close()
        return touched

    def run_many(self, conn: Connection, rows: Sequence[Params]) -> None:
        """Run a change once for each mapping of parameters."""
        cursor = self._execute(conn, rows, many=True)
        cursor.close()

    def _execute(self, conn: Connection, params: Params | Sequence[Params], many: bool = False) -> Any:
        sql, arguments = self._compiled(conn)
        if not conn.in_transaction():
            conn.begin()  # as SQLAlchemy's execute would: the caller's commit or rollback then covers this statement
        cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if many:
                cursor.executemany(sql, [arguments(p) for p in params])  # type: ignore[arg-type]
            else:
                cursor.execute(sql, arguments(params))  # type: ignore[arg-type]
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _translated(conn, cursor, sql, params, exc) from exc
        except BaseException:
            cursor.close()
            raise
        return cursor

    def _compiled(self, conn: Connection) -> tuple[str, Arguments]:
        dialect = conn.dialect
        found = self._by_dialect.get(dialect.name)
        if found is None:
            compiled = self._statement.compile(dialect=dialect)
            positions = getattr(compiled, "positiontup", None)  # SQL compilers of positional drivers have it
            found = self._by_dialect[dialect.name] = (str(compiled), _arguments(positions))
        return found


def _translated(conn: Connection, cursor: Any, sql: str, params: Any, exc: Any) -> StatementError:
    """The driver's error as SQLAlchemy's execute raises it, so that storage errors are explained in one
    place; a connection the error shows lost is invalidated, so the pool never hands it out again."""
    lost = conn.dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor)
    cursor.close()
    if lost:
        conn.invalidate(exc)
    error: StatementError = DBAPIError.instance(
        sql, params, exc, conn.dialect.loaded_dbapi.Error, connection_invalidated=lost, dialect=conn.dialect
    )
    return error


def _arguments(positions: Sequence[str] | None) -> Arguments:
    """How the parameters go to the driver: positional for drivers that want them in order (SQLite's `?`),
    picked by one `itemgetter` (which gives a bare value for one name); by name otherwise (psycopg)."""
    if positions is None:
        return lambda params: params
    if len(positions) > 1:
        return itemgetter(*positions)
    names = tuple(positions)
    return lambda params: tuple(params[name] for name in names)
