"""Contact-group names are unique per user in the store itself, without regard to case."""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contact_groups") as batch:
        batch.add_column(sa.Column("name_key", sa.String(256), nullable=False, server_default=""))
    op.execute("UPDATE contact_groups SET name_key = lower(name)")
    with op.batch_alter_table("contact_groups") as batch:
        batch.alter_column("name_key", server_default=None)
    op.create_index("ux_contact_groups_name", "contact_groups", ["tenant_id", "user_uri", "name_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_contact_groups_name", "contact_groups")
    with op.batch_alter_table("contact_groups") as batch:
        batch.drop_column("name_key")
