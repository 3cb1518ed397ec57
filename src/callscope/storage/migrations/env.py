"""Alembic environment: runs on the connection callscope hands over."""

from alembic import context

from callscope.storage.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
