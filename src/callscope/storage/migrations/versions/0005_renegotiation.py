"""Renegotiations, hold and call-quality feedback of calls."""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("renegotiation", sa.Text, nullable=True))
        batch.add_column(sa.Column("held_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("feedback", sa.Text, nullable=False, server_default="{}"))
        batch.add_column(sa.Column("revision", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        for column in ("revision", "feedback", "held_by", "renegotiation"):
            batch.drop_column(column)
