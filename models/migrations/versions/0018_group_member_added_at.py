"""ect group members: when each joined (models/model_practice.py EctGroupMember.added_at)

A group's model shares are news to an ECT from when they joined it (models.notifications).
Members from before this revision keep NULL: their news dates from the share, as before.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 14:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "ect_group_members", sa.Column("added_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("ect_group_members") as batch_op:
        batch_op.drop_column("added_at")
