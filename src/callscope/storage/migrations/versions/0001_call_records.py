"""Call records, their participants index, and log rows."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_records",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("start_us", sa.BigInteger, nullable=False),
        sa.Column("end_us", sa.BigInteger, nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_call_records_start", "call_records", ["tenant_id", "start_us", "id"])
    op.create_table(
        "call_record_participants",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("participant_id", sa.String(128), primary_key=True),
        sa.Column("record_id", sa.String(128), primary_key=True),
    )
    op.create_index(
        "ix_call_record_participants_record",
        "call_record_participants",
        ["tenant_id", "record_id"],
    )
    op.create_table(
        "log_rows",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("row_key", sa.String(200), primary_key=True),
        sa.Column("start_us", sa.BigInteger, nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_log_rows_start", "log_rows", ["tenant_id", "kind", "start_us", "row_key"])


def downgrade() -> None:
    op.drop_table("log_rows")
    op.drop_table("call_record_participants")
    op.drop_table("call_records")
