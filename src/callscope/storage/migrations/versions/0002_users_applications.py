"""Users who sign in to the live-calls API, and their applications."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("uri", sa.String(256), primary_key=True),
        sa.Column("display_name", sa.String(256), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=True),
    )
    op.create_index("ux_users_uri", "users", ["uri"], unique=True)
    op.create_table(
        "applications",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_uri", sa.String(256), nullable=False),
        sa.Column("user_agent", sa.String(100), nullable=False),
        sa.Column("endpoint_id", sa.String(100), nullable=False),
        sa.Column("culture", sa.String(100), nullable=False),
        sa.Column("instance_id", sa.String(100), nullable=True),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("last_seen_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ux_applications_endpoint", "applications", ["tenant_id", "user_uri", "endpoint_id"], unique=True)


def downgrade() -> None:
    op.drop_table("applications")
    op.drop_table("users")
