"""Event and outbox ids are never given twice (SQLite: AUTOINCREMENT), so no channel skips an event.

Without AUTOINCREMENT, SQLite gives a new row the largest rowid plus one: once an application's
client acknowledged the newest event and it was deleted, the next event got the same id again,
and the channel, which asks for ids above the last one acknowledged, never delivered it. An
outbox message is deleted by id once delivered; a message removed meanwhile (its subscription
deleted) must not leave its id to a newer message that this delete would then take.
PostgreSQL's sequences never go back; nothing changes there.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# The highest id ever handed out that anything may still refer to: stored events and channels.
_HIGHEST = """
SELECT max(coalesce(m, 0)) FROM (
    SELECT max(id) AS m FROM events
    UNION ALL SELECT max(batch_last_id) FROM applications
    UNION ALL SELECT max(acked_id) FROM applications
)
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in ("events", "outbox"):
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}):
            pass
    highest = op.get_bind().execute(sa.text(_HIGHEST)).scalar() or 0
    op.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = 'events'"))
    op.execute(sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('events', :seq)").bindparams(seq=highest))


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in ("events", "outbox"):
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": False}):
            pass
