"""lesson_blanks: blanked moments of a lesson (models/blanks.py)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 03:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lesson_blanks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("lesson_id", sa.String(length=32), nullable=False),
        sa.Column("start", sa.Double(), nullable=False),
        sa.Column("end", sa.Double(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_lesson_blanks_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lessons.id"],
            name=op.f("fk_lesson_blanks_lesson_id_lessons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson_blanks")),
    )
    with op.batch_alter_table("lesson_blanks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lesson_blanks_lesson_id"), ["lesson_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lesson_blanks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lesson_blanks_lesson_id"))
    op.drop_table("lesson_blanks")
