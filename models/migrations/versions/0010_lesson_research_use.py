"""lessons.research_use: whether the pupils' consent covers research exports

Lessons recorded before the question was asked are not for research (false) until their owner
or an admin says they are.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 03:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("research_use", sa.Boolean(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.drop_column("research_use")
