"""Contact groups of UCWA's contact list."""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_groups",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("user_uri", sa.String(256), primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("contact_groups")
