"""full-text search on PostgreSQL folds accents: the tsvector is written with the row

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 23:50:00

0002 made `document` a column generated from `text`, so PostgreSQL indexed "café" as it is and a
search for "cafe" missed it (SQLite's FTS5 tokenizer folds accents itself). The index now holds
the vector of the text with accents folded (models.search.fold_accents), written beside the text;
rows are rewritten from their text. SQLite is unchanged.
"""

from alembic import op


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        return
    op.execute("DROP INDEX ix_transcript_search_document")
    op.execute("ALTER TABLE transcript_search DROP COLUMN document")
    op.execute("ALTER TABLE transcript_search ADD COLUMN document TSVECTOR")
    # unaccent is an extension a school's database may not have; rows written before this
    # revision get their vector as 0002 made it, and are folded when next indexed
    op.execute("UPDATE transcript_search SET document = to_tsvector('english', text)")
    op.execute("ALTER TABLE transcript_search ALTER COLUMN document SET NOT NULL")
    op.execute(
        "CREATE INDEX ix_transcript_search_document ON transcript_search USING GIN (document)"
    )


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        return
    op.execute("DROP INDEX ix_transcript_search_document")
    op.execute("ALTER TABLE transcript_search DROP COLUMN document")
    op.execute(
        "ALTER TABLE transcript_search ADD COLUMN document TSVECTOR "
        "GENERATED ALWAYS AS (to_tsvector('english', text)) STORED"
    )
    op.execute(
        "CREATE INDEX ix_transcript_search_document ON transcript_search USING GIN (document)"
    )
