"""Audio/video calls between users' applications."""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("caller_app", sa.String(64), nullable=False),
        sa.Column("caller_uri", sa.String(256), nullable=False),
        sa.Column("callee_uri", sa.String(256), nullable=False),
        sa.Column("subject", sa.String(256), nullable=True),
        sa.Column("operation_id", sa.String(64), nullable=True),
        sa.Column("caller_context", sa.String(64), nullable=True),
        sa.Column("offer_sdp", sa.Text, nullable=False),
        sa.Column("modalities", sa.String(200), nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("offered", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("answered_by", sa.String(64), nullable=True),
        sa.Column("callee_context", sa.String(64), nullable=True),
        sa.Column("answer_sdp", sa.Text, nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("connected_us", sa.BigInteger, nullable=True),
        sa.Column("ended_us", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_calls_state", "calls", ["state", "created_us"])


def downgrade() -> None:
    op.drop_table("calls")
