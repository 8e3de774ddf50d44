"""action steps (models/action_steps.py) and each ECT's induction start

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 03:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("induction_start", sa.Date(), nullable=True))
    op.create_table(
        "action_steps",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("ect_id", sa.String(length=32), nullable=False),
        sa.Column("set_by", sa.String(length=32), nullable=True),
        sa.Column("instruction", sa.Text(), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "practised",
                "closed",
                "carried",
                name="stepstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("practice_note", sa.Text(), nullable=False),
        sa.Column("practised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("evidence_clip_id", sa.String(length=32), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(length=32), nullable=True),
        sa.Column("carried_from_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["carried_from_id"],
            ["action_steps.id"],
            name=op.f("fk_action_steps_carried_from_id_action_steps"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ect_id"], ["users.id"], name=op.f("fk_action_steps_ect_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["evidence_clip_id"],
            ["clips.id"],
            name=op.f("fk_action_steps_evidence_clip_id_clips"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"],
            ["users.id"],
            name=op.f("fk_action_steps_reviewed_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["set_by"], ["users.id"], name=op.f("fk_action_steps_set_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_steps")),
    )
    with op.batch_alter_table("action_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_steps_ect_id"), ["ect_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_steps_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_action_steps_created_at"), ["created_at"], unique=False
        )
    op.create_table(
        "action_step_strands",
        sa.Column("step_id", sa.String(length=32), nullable=False),
        sa.Column("strand_id", sa.String(length=96), nullable=False),
        sa.ForeignKeyConstraint(
            ["step_id"],
            ["action_steps.id"],
            name=op.f("fk_action_step_strands_step_id_action_steps"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["strand_id"],
            ["strands.id"],
            name=op.f("fk_action_step_strands_strand_id_strands"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("step_id", "strand_id", name=op.f("pk_action_step_strands")),
    )
    with op.batch_alter_table("action_step_strands", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_action_step_strands_strand_id"), ["strand_id"], unique=False
        )
    op.create_table(
        "action_step_clips",
        sa.Column("step_id", sa.String(length=32), nullable=False),
        sa.Column("clip_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["clip_id"],
            ["clips.id"],
            name=op.f("fk_action_step_clips_clip_id_clips"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["step_id"],
            ["action_steps.id"],
            name=op.f("fk_action_step_clips_step_id_action_steps"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("step_id", "clip_id", name=op.f("pk_action_step_clips")),
    )
    with op.batch_alter_table("action_step_clips", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_action_step_clips_clip_id"), ["clip_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("action_step_clips")
    op.drop_table("action_step_strands")
    op.drop_table("action_steps")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("induction_start")
