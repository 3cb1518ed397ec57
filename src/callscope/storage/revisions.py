"""The store's schema revisions: migrating to the newest, and what a failed database operation means."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.exc import DataError, DBAPIError

from callscope.errors import Busy, CallscopeError, InvalidRequest, Unavailable, UnsupportedStoreVersion
from callscope.storage.database import waited_for_a_lock

MIGRATIONS = Path(__file__).with_name("migrations")


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
        if waited_for_a_lock(error):
            return Busy("The database is busy with other writes; nothing was changed. Try again shortly.")
        try:
            with self._engine.connect() as conn:
                revision = conn.execute(_REVISION).scalar()
        except DBAPIError as probe:
            return Unavailable(f"The database cannot be reached: {type(probe.orig).__name__}.")
        if revision not in self._known:
            return _newer_store(str(revision))
        return None


def _newer_store(revision: str) -> UnsupportedStoreVersion:
    return UnsupportedStoreVersion(
        f"The database is at schema revision {revision!r}, which this callscope does not know; a newer"
        " version has migrated it. Upgrade this server.",
        subcode="InvalidExchangeServerVersion",
    )
