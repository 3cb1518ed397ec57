"""Participant links keyed (tenant, record, participant), with no second index.

They were keyed (tenant, participant, record), with an index on (tenant, record) for removing a
replaced record's links. Every link then went into two trees at places of its own: about 10 µs
a link on an import, three links a demo record. Keyed record first, a record's links sit side by
side in one tree, which also serves both lookups: the participant filter asks for (tenant, this
record, that participant), the removal for (tenant, this record). On SQLite the table has no rowid
(the key is the table); SQLite cannot change a key in place, so the links are copied over.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_TABLE = "call_record_participants"
_INDEX = "ix_call_record_participants_record"
_PKEY = "call_record_participants_pkey"
_COLUMNS = "tenant_id, participant_id, record_id"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _copy(("tenant_id", "record_id", "participant_id"), with_rowid=False)
        return
    op.drop_index(_INDEX, table_name=_TABLE)
    op.drop_constraint(_PKEY, _TABLE, type_="primary")
    op.create_primary_key(_PKEY, _TABLE, ["tenant_id", "record_id", "participant_id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _copy(("tenant_id", "participant_id", "record_id"), with_rowid=True)
    else:
        op.drop_constraint(_PKEY, _TABLE, type_="primary")
        op.create_primary_key(_PKEY, _TABLE, ["tenant_id", "participant_id", "record_id"])
    op.create_index(_INDEX, _TABLE, ["tenant_id", "record_id"])


def _copy(key: tuple[str, ...], *, with_rowid: bool) -> None:
    op.create_table(
        f"{_TABLE}_new",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("participant_id", sa.String(128), nullable=False),
        sa.Column("record_id", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint(*key),
        sqlite_with_rowid=with_rowid,
    )
    op.execute(sa.text(f"INSERT INTO {_TABLE}_new ({_COLUMNS}) SELECT {_COLUMNS} FROM {_TABLE}"))
    op.drop_table(_TABLE)
    op.rename_table(f"{_TABLE}_new", _TABLE)
