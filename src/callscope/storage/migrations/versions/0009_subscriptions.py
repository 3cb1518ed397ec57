"""Change-notification subscriptions and the outbox of notifications to deliver."""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("resource", sa.String(400), nullable=False),
        sa.Column("change_types", sa.String(32), nullable=False),
        sa.Column("notification_url", sa.String(2048), nullable=False),
        sa.Column("lifecycle_url", sa.String(2048), nullable=True),
        sa.Column("client_state", sa.String(128), nullable=True),
        sa.Column("expires_us", sa.BigInteger, nullable=False),
        sa.Column("participant_id", sa.String(128), nullable=True),
        sa.Column("creator_id", sa.String(256), nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("subscription_id", sa.String(64), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("lifecycle", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("due_us", sa.BigInteger, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_outbox_due", "outbox", ["due_us"])


def downgrade() -> None:
    op.drop_index("ix_outbox_due", "outbox")
    op.drop_table("outbox")
    op.drop_table("subscriptions")
