"""Full-text search over the newest transcript of every lesson, in the database's own engine.

One interface, two implementations chosen here by the session's dialect:
    SQLite      an FTS5 virtual table (`porter unicode61` tokenizer: stems, folds accents)
    PostgreSQL  a table with a generated `tsvector` (the `english` configuration) and a GIN index
Both hold one row per sentence of a lesson's current transcript, with its start and end time, so
a hit jumps to the moment. Accents are folded on both (FTS5's `remove_diacritics`; on PostgreSQL
the vector is made from `fold_accents(text)` and queries are folded alike). The migrations
`0002` and `0003` make the dialect's table; neither is on
`Base.metadata` (`is_search_table` lets Alembic's comparison leave them alone).

People type anything into a search box. Their text is never handed to the engine's query
language: `parse_query` keeps only words (a quoted stretch is a phrase, a trailing `*` a
prefix), and each dialect builds its query from those words as bound parameters, so quotes,
`NEAR`, `OR`, `-` or brackets are just words or nothing. What the caller may read is decided by
`models.access.lesson_content_filter` joined on `lessons`, as for every list; rows of a deleted
lesson are removed with it (`forget`), and would be invisible anyway since they join no lesson.

The transcribe stage, corrections and reverts index a lesson's new transcript as they write it.
Lessons transcribed before the index existed are indexed by `reindex` (`clipcoach reindex`;
`clipcoach migrate` and `serve` index those missing), since a migration cannot read storage.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    bindparam,
    column,
    delete,
    event,
    func,
    insert,
    literal,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper, Session

from models.access import lesson_content_filter
from models.account import User
from models.lesson import Lesson
from models.storage import Storage

TABLE = "transcript_search"
MAX_QUERY_CHARS = 500
MAX_TERMS = 16
SNIPPET_WORDS = 16
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"
"""Around matched words in the engine's snippet; never in indexed text (stripped on the way in)."""

_WORD = re.compile(r"[^\W_]+")
"""Letters and digits: what both engines' tokenizers keep as words (`_` separates)."""
_TOKEN = re.compile(r'"([^"]*)"?|(\S+)')


def is_search_table(name: str | None) -> bool:
    """The search table, and on SQLite the shadow tables FTS5 keeps beside it."""
    return bool(name) and (name == TABLE or str(name).startswith(TABLE + "_"))


def compared_by_alembic(name: str | None, kind: str, _parent: object) -> bool:
    """Alembic's `include_name`: compare every table with the models but the search index."""
    return kind != "table" or not is_search_table(name)


class EmptyQueryError(ValueError):
    """The text has no word to search for."""


@dataclass(frozen=True)
class Term:
    """Words that must appear together in this order (one word, or a quoted phrase)."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class Hit:
    lesson_id: str
    title: str
    sentence: int
    start: float
    end: float
    snippet: str
    highlights: tuple[tuple[int, int], ...]


def fold_accents(value: str) -> str:
    """Latin letters without their accents ("Zoë" -> "Zoe"), as SQLite's tokenizer folds them;
    other scripts as they are (stripping marks there changes the letter)."""
    out = []
    for char in unicodedata.normalize("NFC", value):
        parts = unicodedata.normalize("NFKD", char)
        base = parts[0]
        if base.isascii() and all(unicodedata.combining(p) for p in parts[1:]):
            out.append(base)
        else:
            out.append(char)
    return "".join(out)


def _words(value: str) -> list[str]:
    text = fold_accents(unicodedata.normalize("NFKC", value))
    return [w.lower() for w in _WORD.findall(text)]


def parse_query(query: str) -> list[Term]:
    """The terms of what someone typed: all must match; raises EmptyQueryError if none."""
    terms: list[Term] = []
    for match in _TOKEN.finditer(query):
        phrase, bare = match.group(1), match.group(2)
        if phrase is not None:
            words = _words(phrase)
            if words:
                terms.append(Term(tuple(words)))
            continue
        words = _words(bare)
        prefix = bare.endswith("*") and len(words) == 1
        terms.extend(Term((w,), prefix and w == words[-1]) for w in words)
    if not terms:
        raise EmptyQueryError("Type a word to search for.")
    return terms[:MAX_TERMS]


def _clean(value: str) -> str:
    return value.replace(MARK_OPEN, " ").replace(MARK_CLOSE, " ").strip()


def _dialect(session: Session | Connection) -> str:
    bind = session.get_bind() if isinstance(session, Session) else session
    return bind.dialect.name


_T = table(
    TABLE,
    column("lesson_id"),
    column("sentence"),
    column("start"),
    column("end"),
    column("text"),
    column("document"),
)


def forget(session: Session | Connection, lesson_id: str) -> None:
    """Drop a lesson from the index (its transcript was deleted, or the lesson)."""
    session.execute(delete(_T).where(_T.c.lesson_id == lesson_id))


OPTIMIZE = f"INSERT INTO {TABLE}({TABLE}) VALUES ('optimize')"  # noqa: S608 - our constant


def purge_deleted(session: Session) -> None:
    """Rewrite SQLite's index so rows deleted from it are gone from its pages too (FTS5 keeps a
    deleted row's words in its segments, marked deleted, until segments merge; `optimize` merges
    them all, at a cost that grows with the index, so only deletions call it). With the
    database's `secure_delete` the freed pages are zeroed, and the write-ahead log is emptied.
    PostgreSQL drops dead rows' words from
    its files at its next vacuum; nothing reads them before."""
    if _dialect(session) == "sqlite":
        session.execute(text(OPTIMIZE))
        session.commit()
        # the write-ahead log still holds the pages as they were; emptied once every page is in
        # the database file (waits for readers, as any write does, up to the busy timeout)
        session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def index_sentences(
    session: Session | Connection, lesson_id: str, sentences: Iterable[tuple[float, float, str]]
) -> int:
    """Make `sentences` (start, end, text) the lesson's indexed transcript; return how many."""
    forget(session, lesson_id)
    rows = [
        {"lesson_id": lesson_id, "sentence": i, "start": s, "end": e, "text": _clean(t)}
        for i, (s, e, t) in enumerate(sentences)
        if t.strip()
    ]
    if rows and _dialect(session) != "sqlite":
        document = func.to_tsvector(literal_column("'english'"), bindparam("folded"))
        statement = insert(_T).values(
            {name: bindparam(name) for name in ("lesson_id", "sentence", "start", "end", "text")}
            | {"document": document}
        )
        session.execute(
            statement, [row | {"folded": fold_accents(str(row["text"]))} for row in rows]
        )
    elif rows:
        session.execute(insert(_T), rows)
    return len(rows)


def index_transcript(session: Session | Connection, lesson_id: str, doc: dict[str, Any]) -> int:
    """Index a transcript.json document (its segments are the sentences)."""
    return index_sentences(
        session,
        lesson_id,
        (
            (float(s.get("start", 0.0)), float(s.get("end", 0.0)), str(s.get("text", "")))
            for s in doc.get("segments", ())
        ),
    )


def reindex(session: Session, storage: Storage, *, everything: bool = False) -> int:
    """Index the current transcript of every lesson not in the index yet (or of every lesson);
    return how many lessons were indexed."""
    indexed = set() if everything else set(session.scalars(select(_T.c.lesson_id).distinct()))
    done = 0
    for lesson in session.scalars(select(Lesson).order_by(Lesson.created_at)):
        key = lesson.artefact_key("transcript.json")
        if lesson.id in indexed or not storage.exists(key):
            continue
        index_transcript(session, lesson.id, json.loads(storage.get_bytes(key)))
        done += 1
    return done


def _fts5_query(terms: Sequence[Term]) -> str:
    """An FTS5 MATCH expression of quoted strings: only word characters reach it."""
    parts = []
    for term in terms:
        quoted = '"' + " ".join(term.words) + '"'
        parts.append(quoted + ("*" if term.prefix else ""))
    return " AND ".join(parts)


def search(
    session: Session, user: User, query: str, *, limit: int = 50, offset: int = 0
) -> list[Hit]:
    """Sentences matching `query` in the lessons `user` may see, best first."""
    terms = parse_query(query)
    marks = (literal(MARK_OPEN), literal(MARK_CLOSE))
    if _dialect(session) == "sqlite":
        fts: Any = literal_column(TABLE)
        snippet: Any = func.snippet(fts, 0, *marks, literal("…"), SNIPPET_WORDS)
        matches: Any = fts.op("MATCH")(_fts5_query(terms))
        rank: Any = func.bm25(fts)
    else:
        tsquery = _pg_tsquery(terms)
        options = f"MaxWords={SNIPPET_WORDS}, MinWords=6, StartSel={MARK_OPEN}, "
        options += f"StopSel={MARK_CLOSE}"
        snippet = func.ts_headline(literal_column("'english'"), _T.c.text, tsquery, options)
        matches = _T.c.document.op("@@")(tsquery)
        rank = func.ts_rank(_T.c.document, tsquery).desc()
    stmt = (
        select(_T.c.lesson_id, Lesson.title, _T.c.sentence, _T.c.start, _T.c.end, snippet)
        .select_from(_T.join(Lesson, Lesson.id == _T.c.lesson_id))
        .where(matches, lesson_content_filter(user))
        .order_by(rank, Lesson.created_at.desc(), _T.c.start)
        .limit(limit)
        .offset(offset)
    )
    return [
        Hit(str(lesson_id), str(title), int(n), float(a), float(b), *_marks(str(marked or "")))
        for lesson_id, title, n, a, b, marked in session.execute(stmt)
    ]


def _pg_tsquery(terms: Sequence[Term]) -> Any:
    """A tsquery built in SQL from bound words: a phrase by `phraseto_tsquery`, a prefix by
    `to_tsquery` over one word of word characters only (nothing the parser could read)."""
    parts = [
        func.to_tsquery(literal_column("'english'"), literal(term.words[0] + ":*"))
        if term.prefix
        else func.phraseto_tsquery(literal_column("'english'"), literal(" ".join(term.words)))
        for term in terms
    ]
    query: Any = parts[0]
    for part in parts[1:]:
        query = query.op("&&")(part)
    return query


def _marks(marked: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The snippet without the engine's markers, and where the matched words are in it."""
    plain: list[str] = []
    spans: list[tuple[int, int]] = []
    length = 0
    opened: int | None = None
    for part in re.split(f"([{MARK_OPEN}{MARK_CLOSE}])", marked or ""):
        if part == MARK_OPEN:
            opened = length
        elif part == MARK_CLOSE:
            if opened is not None and length > opened:
                spans.append((opened, length))
            opened = None
        else:
            plain.append(part)
            length += len(part)
    return "".join(plain), tuple(spans)


@event.listens_for(Lesson, "after_delete")
def _forget_deleted(_mapper: Mapper[Lesson], connection: Connection, lesson: Lesson) -> None:
    """A lesson deleted by any route or job leaves nothing in the index."""
    forget(connection, lesson.id)
