"""The event channel: stored events and each application's acknowledgement state."""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("modalities", sa.String(200), nullable=True))
        batch.add_column(sa.Column("batch", sa.BigInteger, nullable=False, server_default="0"))
        batch.add_column(sa.Column("batch_last_id", sa.BigInteger, nullable=False, server_default="0"))
        batch.add_column(sa.Column("acked_id", sa.BigInteger, nullable=False, server_default="0"))
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("application_id", sa.String(64), nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_events_application", "events", ["tenant_id", "application_id", "id"])


def downgrade() -> None:
    op.drop_table("events")
    with op.batch_alter_table("applications") as batch:
        for column in ("acked_id", "batch_last_id", "batch", "modalities"):
            batch.drop_column(column)
