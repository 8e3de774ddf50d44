"""pupil names: class lists of the school and of each teacher (models/pupilnames.py)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 07:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pupil_names",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("folded", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_pupil_names_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pupil_names")),
    )
    op.create_index(op.f("ix_pupil_names_owner_id"), "pupil_names", ["owner_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_pupil_names_owner_id"), table_name="pupil_names")
    op.drop_table("pupil_names")
