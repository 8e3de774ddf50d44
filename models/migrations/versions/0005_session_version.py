"""sessions end when an account changes: users.session_version

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 23:55:00

Every token carries the version its user had when it was signed; deactivation, reactivation, a
password change or reset and a role change bump the version, so every earlier session and media
link of that user stops working at once (models.accounts.end_sessions).
"""

from alembic import op
import sqlalchemy as sa


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
