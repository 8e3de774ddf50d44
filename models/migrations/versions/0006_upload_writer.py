"""uploads: the claim of the chunk being written (compare-and-set across API processes)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("writer", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("writer_seen_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_column("writer_seen_at")
        batch_op.drop_column("writer")
