"""Deletion is complete (issue 17 points 5 and 6), on local storage and S3 (seaweedfs), on SQLite
and PostgreSQL: after retention deletes a lesson, or an admin erases a person, nothing of it is
left in any table, any stored object, any file under the data folder or the search index, and the
audit log keeps the fact (a tombstone, an event) but no title, name or email.

Nothing here lists the tables or the storage keys by hand, so a table added later cannot be
forgotten:
- coverage: before the deletion every table with a foreign key to `lessons`, `clips` or `users`
  (as the SQLAlchemy metadata says) must hold a row about the target, or the test fails and says
  which table its world has to fill (`fill_every_table` writes rows the API would refuse straight
  into the database: the point is that deletion finds them, not how they got there);
- traces: after it, every row of every table in the live database (reflected, so the search
  index and FTS5's own tables count too) is read, and no value may hold the id of anything the
  deletion removed, nor the target's title, words, name or email. The few columns where the
  erased person's anonymised account is kept on purpose (their comments on others' clips, the
  audit log's actor) are listed in `KEPT`; a new column is not in it, so it must be emptied;
- storage: no key of the whole bucket or folder names a removed id, and no object smaller than
  a megabyte holds the target's words; no file under the data folder names a removed id.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text, update
from sqlalchemy.engine import Engine

from models.account import RevokedToken, User
from models.action_steps import ActionStep
from models.batch import Batch, BatchItem
from models.blanks import LessonBlank
from models.collections import Collection, CollectionItem
from models.db import Base, dispose_engines, get_engine, reset_engines, session_scope, utcnow
from models.lesson import Lesson, LessonStage
from models.model_practice import EctGroup, ModelClip, ModelShare
from models.notifications import NotificationRead, NotificationState
from models.retention import enforce, school_policy
from models.settings import get_settings
from tests.api.conftest import (
    PASSWORD,
    Media,
    World,
    _build_world,
    _use_data_dir,
    add_model_practice,
    app_for,
    sign_in_all,
)
from tests.services import postgres_url, s3_server, s3_url  # noqa: F401 - the backends' fixtures

V1 = "/api/v1"
WORD = "Zanzibar"
"""Said only in lesson_a (by the correction `fill_every_table` makes): its index entries and
every file quoting it must go with the lesson."""
NAMES = {"ect_a": "Aoife Zanetti", "mentor": "Morwenna Quillfeather"}
"""Names no other row holds, so a trace of one is a trace of that person."""
PUPIL = "Ptolemy"
"""A name on ect_a's class list."""

FACT = {
    ("lesson_tombstones", "lesson_id"),
    ("audit_events", "object_id"),
    ("audit_events", "detail"),  # which lessons a search showed, which share expired
}
"""Where the fact of a deletion stays, by id: the tombstone and the audit log's events."""
KEPT = FACT | {
    ("users", "id"),  # the anonymised account itself
    ("audit_events", "actor_id"),  # the log names the anonymised account
    ("lesson_tombstones", "owner_id"),
    ("lesson_tombstones", "deleted_by"),
    ("comments", "author_id"),  # their comments on others' work stay, as a former colleague's
    ("action_steps", "set_by"),  # steps they set for others stay
    ("action_steps", "reviewed_by"),
    ("clip_tags", "tagged_by"),  # their tags on others' clips
    ("shares", "shared_by"),
    ("shares", "revoked_by"),
    ("model_shares", "shared_by"),
    ("model_clips", "published_by"),
    ("lesson_blanks", "created_by"),
    ("transcript_versions", "author_id"),
}
"""(table, column) where the id of an erased person's anonymised account may stay, beside FACT."""

BACKENDS = [
    pytest.param("local-sqlite"),
    pytest.param("local-postgresql", marks=pytest.mark.services),
    pytest.param("s3-sqlite", marks=pytest.mark.services),
    pytest.param("s3-postgresql", marks=pytest.mark.services),
]


@pytest.fixture(params=BACKENDS)
def backend_world(
    request: pytest.FixtureRequest, tmp_path: Path, media: Media, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    """The standard world (tests/api/conftest.py) built on this storage and database, with the
    model-practice cast and a row about lesson_a, ect_a and mentor in every table."""
    storage_kind, database = request.param.split("-")
    if database == "postgresql":
        monkeypatch.setenv("CLIPCOACH_DATABASE_URL", request.getfixturevalue("postgres_url"))
    if storage_kind == "s3":
        monkeypatch.setenv("CLIPCOACH_STORAGE_URL", request.getfixturevalue("s3_url"))
    settings = _use_data_dir(monkeypatch, tmp_path / "data")
    users, ids = _build_world(settings, media)
    app = app_for(settings)
    tokens = sign_in_all(settings, users)
    try:
        with TestClient(app, raise_server_exceptions=True) as client:
            world = World(settings, app, client, dict(users), tokens, dict(ids))
            add_model_practice(world, media)
            fill_every_table(world)
            yield world
    finally:
        app.dependency_overrides.clear()
        dispose_engines()  # closes PostgreSQL connections before the database is dropped
        reset_engines()
        get_settings.cache_clear()


def fill_every_table(w: World) -> None:
    """Rows about lesson_a, ect_a and mentor that the standard world does not make."""
    ect, mentor, lesson_a = w.users["ect_a"], w.users["mentor"], w.ids["lesson_a"]
    # a correction through the API: a second transcript version that says WORD, indexed
    edit = {"version": 1, "sentences": [{"index": 1, "text": f"Today we visit {WORD} fractions."}]}
    made = w.client.post(
        f"{V1}/lessons/{lesson_a}/transcript/corrections", json=edit, headers=w.auth("mentor")
    )
    assert made.status_code == 201, made.text
    edit = {"version": 2, "sentences": [{"index": 0, "text": "Good morning, Year 5."}]}
    made = w.client.post(
        f"{V1}/lessons/{lesson_a}/transcript/corrections", json=edit, headers=w.auth("ect_a")
    )
    assert made.status_code == 201, made.text  # ect_a wrote a version too
    edit = {"version": 3, "sentences": [{"index": 0, "text": "Good morning, everyone."}]}
    made = w.client.post(
        f"{V1}/lessons/{lesson_a}/transcript/corrections", json=edit, headers=w.auth("mentor")
    )
    assert made.status_code == 201, made.text  # ect_a's version is now a kept earlier one
    named = w.client.post(f"{V1}/pupil-names", json={"name": PUPIL}, headers=w.auth("ect_a"))
    assert named.status_code == 201, named.text
    wrong = {"username": "ect_a@school.test", "password": "not the password"}
    assert w.client.post(f"{V1}/auth/token", data=wrong).status_code == 401  # audited by email
    seen = w.client.get(f"{V1}/clips/{w.ids['clip_shared']}", headers=w.auth("ect_a"))
    assert seen.status_code == 200, seen.text  # a clip.view event by ect_a
    # ect_a deleted a lesson of theirs before: a tombstone
    with session_scope(w.settings.database_url) as s:
        earlier = Lesson(owner_id=ect, title="Earlier lesson", source_key="", source_filename="e")
        s.add(earlier)
        s.flush()
        w.ids["lesson_earlier"] = earlier.id
    gone = w.client.delete(f"{V1}/lessons/{w.ids['lesson_earlier']}", headers=w.auth("ect_a"))
    assert gone.status_code == 204, gone.text
    with session_scope(w.settings.database_url) as s:
        for key, name in NAMES.items():
            s.execute(update(User).where(User.id == w.users[key]).values(name=name))
        s.add_all([LessonStage(lesson_id=lesson_a, name=n) for n in ("probe", "transcribe")])
        s.add(LessonBlank(lesson_id=lesson_a, start=4.0, end=4.5, created_by=ect))
        batch = Batch(owner_id=ect, name="ect_a's batch")
        s.add(batch)
        s.flush()
        s.add(BatchItem(batch_id=batch.id, position=0, source_name="x.mp4", lesson_id=lesson_a))
        s.execute(
            update(ActionStep)
            .where(ActionStep.id == w.ids["step_a"])
            .values(evidence_clip_id=w.ids["clip_self"], reviewed_by=mentor)
        )
        for owner, clip in ((mentor, "clip_shared"), (ect, "clip_self")):
            collection = Collection(owner_id=owner, title=f"A collection of {owner}'s")
            s.add(collection)
            s.flush()
            s.add(CollectionItem(collection_id=collection.id, clip_id=w.ids[clip], position=0))
        # model practice of an ECT's clip (the API refuses it; the rows can still exist)
        s.add(ModelClip(clip_id=w.ids["clip_self"], consented_by=ect, published_by=ect))
        s.flush()
        model_share = ModelShare(clip_id=w.ids["clip_self"], ect_id=w.users["ect_b"], shared_by=ect)
        s.add(model_share)
        s.flush()
        s.add(EctGroup(owner_id=ect, name="ect_a's group"))
        for who, key in (
            (ect, f"share:{w.ids['share_clip_shared']}"),
            (mentor, f"comment:{w.ids['comment_clip_self_shared']}"),
            (w.users["ect_b"], f"model_share:{model_share.id}"),
        ):
            s.add(NotificationRead(user_id=who, key=key))
        s.add(NotificationState(user_id=ect, read_up_to=utcnow()))
        s.add(
            RevokedToken(
                jti=secrets.token_hex(16), user_id=ect, expires_at=utcnow() + timedelta(hours=1)
            )
        )


# -- reading everything --------------------------------------------------------------------------


@dataclass(frozen=True)
class Trace:
    table: str
    column: str
    value: str
    holds: str


def _cells(engine: Engine) -> Iterator[tuple[str, str, str]]:
    """(table, column, value as text) of every value in every table of the live database."""
    names = inspect(engine).get_table_names()
    if engine.dialect.name == "sqlite":  # virtual tables (FTS5) are not listed by the inspector
        with engine.connect() as conn:
            names = [r[0] for r in conn.execute(text("SELECT name FROM sqlite_master "
                                                     "WHERE type = 'table'"))]  # fmt: skip
    with engine.connect() as conn:
        for name in names:
            result = conn.execute(text(f'SELECT * FROM "{name}"'))  # names from the catalogue
            columns = list(result.keys())
            for row in result:
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    if isinstance(value, bytes | memoryview):
                        yield name, column, bytes(value).decode("latin-1")
                    elif isinstance(value, dict | list):
                        yield name, column, json.dumps(value)
                    else:
                        yield name, column, str(value)


def _primary_keys(engine: Engine, kept: set[tuple[str, str]]) -> set[str]:
    """Every text id held now (lessons, clips, comments, shares...: single-column primary keys)
    but in the `kept` columns (a tombstone is keyed by its lesson's id)."""
    keys: set[str] = set()
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if len(table.primary_key.columns) != 1:  # a pair's parts are others' ids
                continue
            for column in table.primary_key.columns:
                if (table.name, column.name) in kept:
                    continue
                keys.update(v for v in conn.scalars(select(column)) if isinstance(v, str))
    return keys


def traces(
    engine: Engine, ids: set[str], words: dict[str, str], kept: set[tuple[str, str]]
) -> list[Trace]:
    """Values holding one of `ids` outside the `kept` columns, or one of `words` (by what each
    is) anywhere at all."""
    found = []
    for table, column, value in _cells(engine):
        lowered = value.lower()
        if (table, column) not in kept:
            found += [Trace(table, column, value[:120], "a removed id") for i in ids if i in value]
        found += [
            Trace(table, column, value[:120], what)
            for word, what in words.items()
            if word.lower() in lowered
        ]
    return found


def _referencing_tables(targets: set[str]) -> set[str]:
    """Tables with a foreign key into one of `targets` (following keys to keys, as
    model_shares.clip_id -> model_clips.clip_id -> clips.id)."""

    def reaches(fk_target: Any) -> bool:
        column = fk_target.column
        if column.table.name in targets:
            return True
        return any(reaches(fk) for fk in column.foreign_keys)

    return {
        table.name
        for table in Base.metadata.sorted_tables
        for column in table.columns
        for fk in column.foreign_keys
        if reaches(fk)
    }


def uncovered(engine: Engine, targets: set[str], ids: set[str]) -> set[str]:
    """Tables referencing `targets` in which no row holds one of `ids`: the world leaves them
    empty, so the deletion could not be shown to empty them."""
    holding = {t for t, _c, v in _cells(engine) if any(i in v for i in ids)}
    return _referencing_tables(targets) - holding - set(targets)


@dataclass(frozen=True)
class Stored:
    keys: list[str]
    words: dict[str, str]
    files: list[str]


def stored(w: World, needles: set[str]) -> Stored:
    """Every storage key, the small objects holding one of `needles`, the data folder's files."""
    storage = w.storage
    keys = storage.every_key()
    words = {}
    for key in keys:
        if storage.size(key) < 1_000_000:
            body = storage.get_bytes(key).decode("utf-8", "replace").lower()
            for needle in needles:
                if needle.lower() in body:
                    words[key] = needle
    files = [str(p.relative_to(w.settings.data_dir)) for p in w.settings.data_dir.rglob("*")]
    return Stored(keys, words, files)


def _named(names: list[str], ids: set[str]) -> list[str]:
    return [n for n in names if any(i in n for i in ids)]


def _sqlite_file_holds(w: World, needle: str) -> list[str]:
    """Files of a SQLite database (and its write-ahead log) whose bytes still hold `needle`:
    rows deleted at the SQL level can stay in free pages."""
    url = w.settings.database_url
    if not url.startswith("sqlite"):
        return []
    path = Path(url.split("///", 1)[1])
    found = []
    for file in (path, path.with_name(path.name + "-wal")):
        if file.exists() and needle.lower().encode() in file.read_bytes().lower():
            found.append(file.name)
    return found


# -- the cases -----------------------------------------------------------------------------------


def test_retention_deletes_a_lesson_completely(
    backend_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = backend_world
    lesson_a = w.ids["lesson_a"]
    engine = get_engine(w.settings.database_url)
    clip_ids = {w.ids[k] for k in ("clip_shared", "clip_expired", "clip_revoked", "clip_draft",
                                   "clip_self", "clip_self_shared")}  # fmt: skip
    missing = uncovered(engine, {"lessons", "clips"}, {lesson_a, *clip_ids})
    assert not missing, f"fill these tables with a row about lesson_a or its clips: {missing}"
    assert any(WORD in k for k in stored(w, {WORD}).words.values())
    hits = w.client.get(f"{V1}/search", params={"q": WORD}, headers=w.auth("ect_a")).json()
    assert [h["lesson_id"] for h in hits] == [lesson_a]
    before_ids = _primary_keys(engine, FACT)
    with session_scope(w.settings.database_url) as s:
        s.execute(
            update(Lesson)
            .where(Lesson.id == lesson_a)
            .values(created_at=utcnow() - timedelta(days=31))
        )
    monkeypatch.setenv("CLIPCOACH_RETENTION_DAYS", "30")
    get_settings.cache_clear()

    done = enforce(w.settings.database_url, w.storage, school_policy())  # the sweep's task

    assert done.lessons == [lesson_a]

    removed = before_ids - _primary_keys(engine, FACT)
    assert {lesson_a, *clip_ids} <= removed
    words = {WORD: "the lesson's words", "Lesson of ect_a": "the lesson's title"}
    left = traces(engine, removed, words, FACT)
    assert not left, "\n".join(map(str, left))
    files = stored(w, {WORD, "Lesson of ect_a"})
    assert _named(files.keys, removed) == [] and files.words == {}
    assert _named(files.files, removed) == []
    assert _sqlite_file_holds(w, WORD) == []
    assert w.client.get(f"{V1}/search", params={"q": WORD}, headers=w.auth("ect_a")).json() == []
    with session_scope(w.settings.database_url) as s:
        facts = s.execute(
            text("SELECT action FROM audit_events WHERE object_id = :id"), {"id": lesson_a}
        ).scalars()
        assert "lesson.expire" in set(facts)
    # the rest of the school is untouched
    assert w.storage.list_keys(f"lessons/{w.ids['lesson_b']}")
    assert (
        w.client.get(f"{V1}/lessons/{w.ids['lesson_b']}", headers=w.auth("ect_b")).status_code
        == 200
    )


@pytest.mark.parametrize("who", ["ect_a", "mentor"])
def test_erasing_a_person_leaves_nothing_of_them(backend_world: World, who: str) -> None:
    w = backend_world
    uid = w.users[who]
    engine = get_engine(w.settings.database_url)
    email = f"{who}@school.test"
    if who == "ect_a":  # the cast's ECT is in every table about people
        missing = uncovered(engine, {"users"}, {uid})
        assert not missing, f"fill these tables with a row about ect_a: {missing}"
    owned = {"ect_a": ["lesson_a"], "mentor": ["lesson_m"]}[who]
    before_ids = _primary_keys(engine, KEPT)

    answer = w.client.post(f"{V1}/admin/users/{uid}/erase", headers=w.auth("admin"))
    assert answer.status_code == 200, answer.text

    removed = before_ids - _primary_keys(engine, KEPT)
    assert {w.ids[k] for k in owned} <= removed
    words = {NAMES[who]: "their name", email: "their email"}
    if who == "ect_a":
        words |= {WORD: "their lesson's words", PUPIL: "their class list",
                  "Lesson of ect_a": "their lesson's title"}  # fmt: skip
    left = traces(engine, removed | {uid}, words, KEPT | {("users", "email")})
    assert not left, "\n".join(map(str, left))
    files = stored(w, set(words))
    assert _named(files.keys, removed | {uid}) == [] and files.words == {}
    assert _named(files.files, removed | {uid}) == []
    assert _sqlite_file_holds(w, NAMES[who]) == []
    assert (
        w.client.post(
            f"{V1}/auth/token", data={"username": email, "password": PASSWORD}
        ).status_code
        == 401
    )
    with session_scope(w.settings.database_url) as s:
        facts = s.execute(
            text("SELECT action FROM audit_events WHERE object_id = :id"), {"id": uid}
        ).scalars()
        assert "user.erase" in set(facts)
