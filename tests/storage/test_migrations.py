"""The Alembic migrations build exactly the tables the code describes."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from callscope.app import Services
from callscope.storage.tables import metadata


def test_migrations_and_table_definitions_agree(services: Services) -> None:
    with services.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []
