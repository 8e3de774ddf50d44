"""Claiming a lesson's blanks for the blank worker (models.blanks): one run at a time per lesson,
a redelivered run takes its own claim back, a dead run's claim is taken after STALE_CLAIM, and a
lesson that is not ready fails its blanks with a stable code; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from models.blanks import STALE_CLAIM, BlankStatus, LessonBlank, claim, finish, release
from models.db import dispose_engines, session_scope, utcnow
from models.lesson import Lesson, LessonStatus
from models.migrate import upgrade


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url = (
        f"sqlite:///{tmp_path / 'blanks.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    upgrade(url)
    yield url
    dispose_engines()


def _lesson(db: str, status: LessonStatus = LessonStatus.ready) -> str:
    with session_scope(db) as s:
        lesson = Lesson(source_key="lessons/x/source.mp4", status=status)
        lesson.media_key = "lessons/x/lesson.mp4"
        s.add(lesson)
        s.flush()
        return lesson.id


def _add(db: str, lesson_id: str, start: float) -> str:
    with session_scope(db) as s:
        blank = LessonBlank(lesson_id=lesson_id, start=start, end=start + 1)
        s.add(blank)
        s.flush()
        return blank.id


def _claim(db: str, lesson_id: str, token: str) -> tuple[str, ...] | None:
    with session_scope(db) as s:
        job = claim(s, lesson_id, token)
        return None if job is None else job.blank_ids


def _states(db: str, *ids: str) -> list[tuple[BlankStatus, str | None]]:
    with session_scope(db) as s:
        rows = [s.get(LessonBlank, i) for i in ids]
        return [(r.status, r.error_code) for r in rows if r is not None]


def test_one_run_at_a_time_takes_every_pending_blank(db: str) -> None:
    lesson = _lesson(db)
    first, second = _add(db, lesson, 1.0), _add(db, lesson, 3.0)
    assert _claim(db, lesson, "run-a") == (first, second)
    late = _add(db, lesson, 5.0)
    assert _claim(db, lesson, "run-b") is None  # run-a holds the lesson
    with session_scope(db) as s:
        finish(s, (first, second))
    assert _claim(db, lesson, "run-a") == (late,)  # the same run takes the late one
    assert _claim(db, lesson, "run-a") == (late,)  # and, redelivered, its own claim back
    with session_scope(db) as s:
        finish(s, (late,), ("not_media", "unreadable"))
    assert _states(db, first, second, late) == [
        (BlankStatus.applied, None),
        (BlankStatus.applied, None),
        (BlankStatus.failed, "not_media"),
    ]
    assert _claim(db, lesson, "run-b") is None  # nothing pending is left


def test_a_dead_runs_claim_is_taken_after_it_goes_stale(db: str) -> None:
    lesson = _lesson(db)
    blank = _add(db, lesson, 1.0)
    assert _claim(db, lesson, "dead") == (blank,)
    assert _claim(db, lesson, "next") is None
    with session_scope(db) as s:
        old = utcnow() - STALE_CLAIM - STALE_CLAIM / 10
        s.execute(update(LessonBlank).where(LessonBlank.id == blank).values(claimed_at=old))
    assert _claim(db, lesson, "next") == (blank,)


def test_a_released_claim_is_pending_again(db: str) -> None:
    lesson = _lesson(db)
    blank = _add(db, lesson, 1.0)
    assert _claim(db, lesson, "run-a") == (blank,)
    with session_scope(db) as s:
        release(s, (blank,))
    assert _states(db, blank) == [(BlankStatus.pending, None)]
    assert _claim(db, lesson, "run-b") == (blank,)


def test_a_lesson_that_is_not_ready_fails_its_blanks(db: str) -> None:
    lesson = _lesson(db, LessonStatus.processing)
    blank = _add(db, lesson, 1.0)
    assert _claim(db, lesson, "run-a") is None
    assert _states(db, blank) == [(BlankStatus.failed, "lesson_not_ready")]
