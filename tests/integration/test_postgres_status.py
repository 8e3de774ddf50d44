"""Stage transitions under real concurrency on PostgreSQL: when the last two branches before a join
finish at the same moment on two workers, the joining stage is claimed exactly once (never twice,
never zero times). SQLite serialises writers, so only PostgreSQL shows this."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from models.db import dispose_engines, session_scope
from models.lesson import Lesson
from models.migrate import upgrade
from pipeline.lesson import StageOutcome
from workers import status

ROUNDS = 12


@pytest.fixture
def database(postgres_url: str) -> Iterator[str]:
    upgrade(postgres_url)
    yield postgres_url
    dispose_engines()


def _lesson_waiting_for_two_branches(db: str) -> str:
    with session_scope(db) as session:
        lesson = Lesson(source_key="lessons/x/source.mp4", title="Race")
        session.add(lesson)
        session.flush()
        lesson_id = lesson.id
    status.start_lesson(db, lesson_id)
    facts = {"duration": 10.0, "has_video": True, "has_audio": True}
    order = [
        ("probe", StageOutcome(facts=facts)),
        ("normalise", StageOutcome(outputs=["lesson.mp4"], facts={"media": "lesson.mp4"})),
        ("audio", StageOutcome()),
        ("transcribe", StageOutcome()),
    ]
    for name, outcome in order:
        assert status.begin_stage(db, lesson_id, name) is not None
        status.finish_stage(db, lesson_id, name, outcome)
    for name in ("thumbnails", "scenes"):
        assert status.begin_stage(db, lesson_id, name) is not None
    return lesson_id


def _finish_together(db: str, lesson_id: str, names: tuple[str, str]) -> list[str]:
    """Finish both stages from two threads released at the same instant; what they claimed."""
    barrier = threading.Barrier(len(names))
    claimed: list[str] = []
    errors: list[BaseException] = []

    def finish(name: str) -> None:
        try:
            barrier.wait(timeout=10)
            claimed.extend(status.finish_stage(db, lesson_id, name, StageOutcome()))
        except BaseException as exc:  # noqa: BLE001 - reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=finish, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return sorted(claimed)


@pytest.mark.services
def test_a_join_is_claimed_exactly_once_when_branches_finish_together(database: str) -> None:
    for _ in range(ROUNDS):
        lesson_id = _lesson_waiting_for_two_branches(database)
        assert _finish_together(database, lesson_id, ("thumbnails", "scenes")) == ["segment"]
