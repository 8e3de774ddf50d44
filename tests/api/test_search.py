"""Transcript search over HTTP, on SQLite (FTS5) and PostgreSQL (tsvector), with the access rules.

The world: ect_a (paired with `mentor`) and ect_b (paired with `mentor_b`) each own a lesson
whose transcript is indexed as processing indexes it; both say "whiteboards", only ect_a's says
"fractions", only ect_b's "photosynthesis". A coach and an admin own nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from models import search
from models.account import Role
from models.accounts import create_user, issue_token, pair
from models.db import dispose_engines, reset_engines, session_scope
from models.lesson import Lesson, LessonStatus
from models.settings import get_settings
from models.storage import open_storage
from tests.api.conftest import SECRET

V1 = "/api/v1"

TRANSCRIPTS = {
    "ect_a": [
        (2.0, 5.5, "Today we are adding fractions with unlike denominators."),
        (6.0, 9.0, "Show me on your whiteboards."),
        (30.25, 33.0, "Naïve café answers are welcome, and so is 3D work."),
    ],
    "ect_b": [
        (1.0, 4.0, "Photosynthesis makes glucose from light."),
        (4.5, 7.0, "Hold up your whiteboards, please."),
    ],
}


@dataclass
class SearchWorld:
    client: TestClient
    tokens: dict[str, str]
    lessons: dict[str, str]
    database_url: str

    def find(self, who: str, q: str, **params: Any) -> Any:
        return self.client.get(
            f"{V1}/search",
            params={"q": q, **params},
            headers={"Authorization": f"Bearer {self.tokens[who]}"},
        )

    def lessons_found(self, who: str, q: str) -> set[str]:
        r = self.find(who, q)
        assert r.status_code == 200, r.text
        return {hit["lesson_id"] for hit in r.json()}


def _transcript(sentences: list[tuple[float, float, str]]) -> dict[str, Any]:
    return {
        "language": "en",
        "duration": 40.0,
        "segments": [
            {
                "start": a,
                "end": b,
                "text": t,
                "words": [{"start": a, "end": b, "text": w, "probability": 0.9} for w in t.split()],
            }
            for a, b, t in sentences
        ],
    }


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def search_world(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SearchWorld]:
    from api.app import create_app
    from models.migrate import upgrade

    monkeypatch.setenv("CLIPCOACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CLIPCOACH_SECRET_KEY", SECRET)
    monkeypatch.setenv("CLIPCOACH_SEED_DEMO", "false")
    if request.param == "postgresql":
        monkeypatch.setenv("CLIPCOACH_DATABASE_URL", request.getfixturevalue("postgres_url"))
    get_settings.cache_clear()
    reset_engines()
    settings = get_settings()
    upgrade(settings.database_url)
    storage = open_storage(settings.storage_url)
    tokens, lessons = {}, {}
    with session_scope(settings.database_url) as s:
        users = {}
        for name, role in (
            ("ect_a", Role.ect),
            ("ect_b", Role.ect),
            ("mentor", Role.mentor),
            ("mentor_b", Role.mentor),
            ("coach", Role.coach),
            ("admin", Role.admin),
        ):
            users[name], _ = create_user(s, f"{name}@school.test", name, role, "pw-long-enough")
        pair(s, users["mentor"], users["ect_a"])
        pair(s, users["mentor_b"], users["ect_b"])
        for owner, sentences in TRANSCRIPTS.items():
            lesson = Lesson(owner_id=users[owner].id, title=f"{owner} lesson", source_key="x")
            lesson.status, lesson.duration = LessonStatus.ready, 40.0
            s.add(lesson)
            s.flush()
            doc = _transcript(sentences)
            storage.put_bytes(lesson.artefact_key("transcript.json"), json.dumps(doc).encode())
            search.index_transcript(s, lesson.id, doc)
            lessons[owner] = lesson.id
        for name, user in users.items():
            tokens[name] = issue_token(settings, user).token
    with TestClient(create_app()) as client:
        yield SearchWorld(client, tokens, lessons, settings.database_url)
    dispose_engines()  # closes PostgreSQL connections before the database is dropped
    get_settings.cache_clear()


def test_a_hit_names_the_lesson_the_moment_and_the_matched_words(search_world: SearchWorld) -> None:
    r = search_world.find("ect_a", "fraction")  # stemmed: "fractions" is found
    assert r.status_code == 200, r.text
    [hit] = r.json()
    assert hit["lesson_id"] == search_world.lessons["ect_a"]
    assert hit["lesson_title"] == "ect_a lesson"
    assert (hit["start"], hit["end"], hit["sentence"]) == (2.0, 5.5, 0)
    assert "adding fractions with" in hit["snippet"]
    [(a, b)] = hit["highlights"]
    assert hit["snippet"][a:b] == "fractions"


def test_each_person_finds_only_the_lessons_they_may_watch(search_world: SearchWorld) -> None:
    w = search_world
    a, b = w.lessons["ect_a"], w.lessons["ect_b"]
    assert w.lessons_found("ect_a", "whiteboards") == {a}
    assert w.lessons_found("ect_b", "whiteboards") == {b}
    assert w.lessons_found("mentor", "whiteboards") == {a}
    assert w.lessons_found("mentor_b", "whiteboards") == {b}
    # never another ECT's words, nor an unpaired ECT's for a mentor
    assert w.lessons_found("ect_a", "photosynthesis") == set()
    assert w.lessons_found("mentor", "photosynthesis") == set()
    assert w.lessons_found("mentor_b", "fractions") == set()
    # a coach with no batch and an admin (who manages records, not content) find nothing
    assert w.lessons_found("coach", "whiteboards") == set()
    assert w.lessons_found("admin", "whiteboards") == set()
    assert w.client.get(f"{V1}/search", params={"q": "whiteboards"}).status_code == 401


def test_phrases_prefixes_and_accents(search_world: SearchWorld) -> None:
    w = search_world
    a = w.lessons["ect_a"]
    assert w.lessons_found("ect_a", '"unlike denominators"') == {a}
    assert w.lessons_found("ect_a", '"denominators unlike"') == set()  # a phrase keeps order
    assert w.lessons_found("ect_a", "denomin*") == {a}
    assert w.lessons_found("ect_a", "cafe") == {a}  # accents folded
    assert w.lessons_found("ect_a", "CAFÉ naïve") == {a}
    assert w.lessons_found("ect_a", "fractions whiteboards") == set()  # all words, one sentence
    [hit] = w.find("ect_a", "café").json()
    assert hit["start"] == 30.25


ODD = [
    '"',
    '""',
    '"unclosed phrase',
    "*",
    "fractions*",
    "**fractions**",
    "NEAR(fractions denominators)",
    "fractions NEAR denominators",
    "fractions OR photosynthesis",
    "fractions AND NOT x",
    "-fractions",
    "^fractions",
    "text:fractions",
    "lesson_id:1",
    "fractions'; DROP TABLE lessons; --",
    "(){}[]<>:&|!~",
    "ü",
    "日本語の授業",
    "🙂 fractions",
    "\u202efractions",
    "a" * 499,
    "x_y",
    "3D",
    "the",
]


def test_odd_input_gets_results_or_a_422_never_a_500(search_world: SearchWorld) -> None:
    for q in ODD:
        r = search_world.find("ect_a", q)
        assert r.status_code in (200, 422), (q, r.status_code, r.text)
        if r.status_code == 422:
            assert isinstance(r.json()["detail"], str | list)
    for q in ("", " ", "   \t", "*", '""', "(){}[]<>:&|!~"):
        r = search_world.find("ect_a", q)
        assert r.status_code == 422, (q, r.text)
    assert search_world.find("ect_a", "fractions " * 1000).status_code == 422  # 10 kB
    assert search_world.lessons_found("ect_a", "NEAR(fractions denominators)") == set()
    assert search_world.lessons_found("ect_a", "fractions*") == {search_world.lessons["ect_a"]}
    assert search_world.lessons_found("ect_a", "3D") == {search_world.lessons["ect_a"]}
    assert search_world.find("ect_a", "fractions", limit=0).status_code == 422


def test_deleting_a_lesson_removes_its_words(search_world: SearchWorld) -> None:
    w = search_world
    r = w.client.delete(
        f"{V1}/lessons/{w.lessons['ect_b']}",
        headers={"Authorization": f"Bearer {w.tokens['ect_b']}"},
    )
    assert r.status_code == 204
    assert w.lessons_found("ect_b", "photosynthesis") == set()
    with session_scope(w.database_url) as s:
        from sqlalchemy import text

        left = s.execute(
            text(f"SELECT count(*) FROM {search.TABLE} WHERE lesson_id = :l"),
            {"l": w.lessons["ect_b"]},
        ).scalar()
    assert left == 0


def test_lessons_transcribed_before_the_index_are_indexed_by_the_cli(
    search_world: SearchWorld,
) -> None:
    from typer.testing import CliRunner

    from workers.cli import app

    w = search_world
    with session_scope(w.database_url) as s:
        search.forget(s, w.lessons["ect_a"])  # as if transcribed before migration 0002
    assert w.lessons_found("ect_a", "fractions") == set()
    result = CliRunner().invoke(app, ["reindex"])
    assert result.exit_code == 0, result.output
    assert "indexed the transcripts of 1 lesson" in result.output  # only the missing one
    assert w.lessons_found("ect_a", "fractions") == {w.lessons["ect_a"]}
    assert "of 2 lessons" in CliRunner().invoke(app, ["reindex", "--all"]).output
    assert len(w.find("ect_a", "whiteboards").json()) == 1  # indexed again, not twice
