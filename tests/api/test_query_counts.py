"""The lesson list costs the same number of database queries however many lessons it shows:
a query per card (the N+1 pattern) made it 26 queries for 20 lessons, and each is a round trip
to PostgreSQL on scale-out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from models.db import session_scope
from models.lesson import Lesson, LessonStage, LessonStatus, StageStatus
from tests.api.conftest import World


@contextmanager
def counted() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def add_lessons(world: World, owner: str, n: int) -> None:
    with session_scope(world.settings.database_url) as session:
        for i in range(n):
            lesson = Lesson(
                owner_id=world.users[owner], title=f"Extra {i}", source_filename=f"x{i}.mp4",
                source_key=f"lessons/extra{i}/source.mp4", status=LessonStatus.ready,
                progress=100, duration=60.0, has_video=True, has_audio=True,
            )  # fmt: skip
            stage = LessonStage(name="transcribe", status=StageStatus.done, progress=100.0)
            lesson.stages = [stage]
            session.add(lesson)


def list_queries(world: World) -> tuple[int, int]:
    with counted() as statements:
        r = world.client.get("/api/v1/lessons", headers=world.auth("ect_a"))
    assert r.status_code == 200
    return len(r.json()), len(statements)


def test_the_lesson_list_does_not_query_once_per_lesson(world: World) -> None:
    shown_before, queries_before = list_queries(world)
    add_lessons(world, "ect_a", 8)
    shown_after, queries_after = list_queries(world)
    assert shown_after == shown_before + 8
    assert queries_after == queries_before
