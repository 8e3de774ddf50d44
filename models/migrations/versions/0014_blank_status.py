"""blank status: lesson_blanks.status, applied_at, error_code, error_message, claim, claimed_at

Blanks made before this revision are `pending`: the stored lesson was never rewritten for them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 15:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lesson_blanks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status",
                sa.Enum(
                    "pending",
                    "applying",
                    "applied",
                    "failed",
                    name="blankstatus",
                    native_enum=False,
                    length=16,
                ),
                server_default="pending",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("error_code", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("error_message", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("claim", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lesson_blanks", schema=None) as batch_op:
        for name in ("claimed_at", "claim", "error_message", "error_code", "applied_at", "status"):
            batch_op.drop_column(name)
