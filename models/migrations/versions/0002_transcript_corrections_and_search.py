"""transcript corrections (who made a version, and how) and full-text search of transcripts

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 23:30:00

The search table depends on the dialect (models.search): an FTS5 virtual table on SQLite, a
table with a generated tsvector and a GIN index on PostgreSQL. Neither is on Base.metadata.
A migration cannot read object storage, so lessons transcribed before it are indexed apart from
it (models.search says how).
"""

from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transcript_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="transcription", nullable=False)
        )
        batch_op.add_column(sa.Column("author_id", sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_transcript_versions_author_id_users"),
            "users",
            ["author_id"],
            ["id"],
            ondelete="SET NULL",
        )
    if op.get_context().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE transcript_search USING fts5("
            'text, lesson_id UNINDEXED, sentence UNINDEXED, start UNINDEXED, "end" UNINDEXED, '
            "tokenize = 'porter unicode61 remove_diacritics 2')"
        )
    else:
        op.execute(
            "CREATE TABLE transcript_search ("
            "id BIGSERIAL PRIMARY KEY, "
            "lesson_id VARCHAR(32) NOT NULL REFERENCES lessons (id) ON DELETE CASCADE, "
            "sentence INTEGER NOT NULL, "
            "start DOUBLE PRECISION NOT NULL, "
            '"end" DOUBLE PRECISION NOT NULL, '
            "text TEXT NOT NULL, "
            "document TSVECTOR GENERATED ALWAYS AS (to_tsvector('english', text)) STORED)"
        )
        op.execute(
            "CREATE INDEX ix_transcript_search_document ON transcript_search USING GIN (document)"
        )
        op.execute("CREATE INDEX ix_transcript_search_lesson_id ON transcript_search (lesson_id)")


def downgrade() -> None:
    op.execute("DROP TABLE transcript_search")
    with op.batch_alter_table("transcript_versions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_transcript_versions_author_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("author_id")
        batch_op.drop_column("kind")
