"""collections: a mentor's bundle of clips shared at once (models/collections.py)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 15:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collections",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_collections_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collections")),
    )
    op.create_index(op.f("ix_collections_owner_id"), "collections", ["owner_id"])
    op.create_index(op.f("ix_collections_created_at"), "collections", ["created_at"])
    op.create_table(
        "collection_items",
        sa.Column("collection_id", sa.String(length=32), nullable=False),
        sa.Column("clip_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collections.id"],
            name=op.f("fk_collection_items_collection_id_collections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["clip_id"],
            ["clips.id"],
            name=op.f("fk_collection_items_clip_id_clips"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("collection_id", "clip_id", name=op.f("pk_collection_items")),
    )
    op.create_index(op.f("ix_collection_items_clip_id"), "collection_items", ["clip_id"])
    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.add_column(sa.Column("collection_id", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_shares_collection_id"), ["collection_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_shares_collection_id_collections"),
            "collections",
            ["collection_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_shares_collection_id_collections"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_shares_collection_id"))
        batch_op.drop_column("collection_id")
    op.drop_index(op.f("ix_collection_items_clip_id"), table_name="collection_items")
    op.drop_table("collection_items")
    op.drop_index(op.f("ix_collections_created_at"), table_name="collections")
    op.drop_index(op.f("ix_collections_owner_id"), table_name="collections")
    op.drop_table("collections")
