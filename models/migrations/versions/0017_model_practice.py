"""model practice: model clips, ECT groups, model shares, users.may_share_model_practice

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    name = target.split(".")[0]
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{name}"), ondelete=ondelete
    )


def upgrade() -> None:
    # a plain ADD COLUMN: batch mode would copy and drop `users` on SQLite, and dropping it
    # cascades into every table that refers to it
    op.add_column(
        "users",
        sa.Column(
            "may_share_model_practice", sa.Boolean(), nullable=False, server_default=sa.false()
        ),
    )
    op.create_table(
        "model_clips",
        sa.Column("clip_id", sa.String(length=32), nullable=False),
        sa.Column("consented_by", sa.String(length=32), nullable=False),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(length=32), nullable=True),
        _fk("model_clips", "clip_id", "clips.id", "CASCADE"),
        _fk("model_clips", "consented_by", "users.id", "CASCADE"),
        _fk("model_clips", "published_by", "users.id", "SET NULL"),
        sa.PrimaryKeyConstraint("clip_id", name=op.f("pk_model_clips")),
    )
    op.create_table(
        "ect_groups",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("ect_groups", "owner_id", "users.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ect_groups")),
    )
    op.create_index(op.f("ix_ect_groups_owner_id"), "ect_groups", ["owner_id"])
    op.create_table(
        "ect_group_members",
        sa.Column("group_id", sa.String(length=32), nullable=False),
        sa.Column("ect_id", sa.String(length=32), nullable=False),
        _fk("ect_group_members", "group_id", "ect_groups.id", "CASCADE"),
        _fk("ect_group_members", "ect_id", "users.id", "CASCADE"),
        sa.PrimaryKeyConstraint("group_id", "ect_id", name=op.f("pk_ect_group_members")),
    )
    op.create_index(op.f("ix_ect_group_members_ect_id"), "ect_group_members", ["ect_id"])
    op.create_table(
        "model_shares",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("clip_id", sa.String(length=32), nullable=False),
        sa.Column("ect_id", sa.String(length=32), nullable=True),
        sa.Column("group_id", sa.String(length=32), nullable=True),
        sa.Column("shared_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        _fk("model_shares", "clip_id", "model_clips.clip_id", "CASCADE"),
        _fk("model_shares", "ect_id", "users.id", "CASCADE"),
        _fk("model_shares", "group_id", "ect_groups.id", "CASCADE"),
        _fk("model_shares", "shared_by", "users.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_shares")),
    )
    for column in ("clip_id", "ect_id", "group_id"):
        op.create_index(op.f(f"ix_model_shares_{column}"), "model_shares", [column])


def downgrade() -> None:
    for column in ("clip_id", "ect_id", "group_id"):
        op.drop_index(op.f(f"ix_model_shares_{column}"), table_name="model_shares")
    op.drop_table("model_shares")
    op.drop_index(op.f("ix_ect_group_members_ect_id"), table_name="ect_group_members")
    op.drop_table("ect_group_members")
    op.drop_index(op.f("ix_ect_groups_owner_id"), table_name="ect_groups")
    op.drop_table("ect_groups")
    op.drop_table("model_clips")
    op.drop_column("users", "may_share_model_practice")  # not batch: see upgrade()
