"""comments: on a whole lesson as well as on a clip; edited and removed marks

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 02:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.alter_column("clip_id", existing_type=sa.String(length=32), nullable=True)
        batch_op.add_column(sa.Column("lesson_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_comments_lesson_id"), ["lesson_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_comments_lesson_id_lessons"),
            "lessons",
            ["lesson_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    op.execute("DELETE FROM comments WHERE clip_id IS NULL")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_comments_lesson_id_lessons"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_comments_lesson_id"))
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("edited_at")
        batch_op.drop_column("lesson_id")
        batch_op.alter_column("clip_id", existing_type=sa.String(length=32), nullable=False)
