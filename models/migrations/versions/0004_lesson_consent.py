"""lessons.consent: each lesson's consent state (models/consent.py)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "consent",
                sa.Enum(
                    "all_visible",
                    "blur_faces",
                    "audio_only",
                    "not_shared",
                    name="consent",
                    native_enum=False,
                    length=16,
                ),
                server_default="all_visible",
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.drop_column("consent")
