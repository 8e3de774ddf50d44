"""notifications: per-user read state and read marks (models/notifications.py)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 07:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_states",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("read_up_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("emailed_up_to", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_states_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_states")),
    )
    op.create_table(
        "notification_reads",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_reads_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_notification_reads")),
    )


def downgrade() -> None:
    op.drop_table("notification_reads")
    op.drop_table("notification_states")
