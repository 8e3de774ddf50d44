"""retention: lessons.keep_until and lesson_tombstones (models/retention.py)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 03:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("keep_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "lesson_tombstones",
        sa.Column("lesson_id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_by", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_lesson_tombstones_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_lesson_tombstones_owner_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("lesson_id", name=op.f("pk_lesson_tombstones")),
    )
    with op.batch_alter_table("lesson_tombstones", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lesson_tombstones_deleted_at"), ["deleted_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_lesson_tombstones_owner_id"), ["owner_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("lesson_tombstones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lesson_tombstones_owner_id"))
        batch_op.drop_index(batch_op.f("ix_lesson_tombstones_deleted_at"))
    op.drop_table("lesson_tombstones")
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.drop_column("keep_until")
