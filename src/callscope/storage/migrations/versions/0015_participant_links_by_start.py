"""Participant links keyed (tenant, participant, start time, record), in one tree.

They were keyed (tenant, participant, record), with an index on (tenant, record) for removing a
replaced record's links, and the participant filter asked, for every record of the tenant in
start-time order, whether the participant was in it: a page for someone found in few records
read the whole tenant (300 ms at 100,000 records). With the record's start time in the key, a
page reads that participant's links in start-time order and stops after one page. A replaced
record's links are found from the stored version (its participants and start time), so the
second index goes, and with it half of what a link cost to write. On SQLite the key is the table
(no rowid). Neither database changes a key in place: the links are copied into the new table.
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_TABLE = "call_record_participants"
_INDEX = "ix_call_record_participants_record"
_PKEY = "call_record_participants_pkey"


def upgrade() -> None:
    _replace(
        [sa.Column("start_us", sa.BigInteger, nullable=False)],
        ("tenant_id", "participant_id", "start_us", "record_id"),
        with_rowid=False,
        copy=(
            "SELECT l.tenant_id, l.participant_id, r.start_us, l.record_id FROM {old} l"
            " JOIN call_records r ON r.tenant_id = l.tenant_id AND r.id = l.record_id"
        ),
    )


def downgrade() -> None:
    _replace(
        [],
        ("tenant_id", "participant_id", "record_id"),
        with_rowid=True,
        copy="SELECT tenant_id, participant_id, record_id FROM {old}",
    )
    op.create_index(_INDEX, _TABLE, ["tenant_id", "record_id"])


def _replace(extra: list[sa.Column[Any]], key: tuple[str, ...], *, with_rowid: bool, copy: str) -> None:
    """The links moved into a new table of this key, which then takes the old one's name."""
    new = f"{_TABLE}_new"
    columns: list[sa.Column[Any]] = [
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("participant_id", sa.String(128), nullable=False),
        *extra,
        sa.Column("record_id", sa.String(128), nullable=False),
    ]
    op.create_table(new, *columns, sa.PrimaryKeyConstraint(*key, name=f"{new}_pkey"), sqlite_with_rowid=with_rowid)
    names = ", ".join(column.name for column in columns)
    op.execute(sa.text(f"INSERT INTO {new} ({names}) {copy.format(old=_TABLE)}"))
    op.drop_table(_TABLE)
    op.rename_table(new, _TABLE)
    if op.get_bind().dialect.name != "sqlite":  # SQLite's key has no name of its own
        op.execute(sa.text(f"ALTER TABLE {_TABLE} RENAME CONSTRAINT {new}_pkey TO {_PKEY}"))
