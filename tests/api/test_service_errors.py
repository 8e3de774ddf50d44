"""A service's refusal (`api.services.errors`) reaches the client with its status, its detail
and, for 503, the Retry-After the service named: the lesson service here, the clip render
service in test_clips."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from api.deps import get_session, get_task_queue
from tests.api.conftest import Media, World


class DownQueue:
    """A broker that refuses every task, as Redis does when it is gone."""

    def send(self, name: str, *args: Any, queue: str | None = None) -> None:
        raise ConnectionError("broker unreachable")


def lesson_ids(world: World) -> set[str]:
    r = world.client.get("/api/v1/lessons", headers=world.auth("ect_a"))
    assert r.status_code == 200
    return {lesson["id"] for lesson in r.json()}


def test_a_lesson_the_queue_cannot_take_is_503_with_nothing_kept(
    world: World, media: Media
) -> None:
    before = lesson_ids(world)
    world.app.dependency_overrides[get_task_queue] = DownQueue
    with media.video.open("rb") as handle:
        r = world.client.post(
            "/api/v1/lessons",
            headers=world.auth("ect_a"),
            files={"file": ("lesson.mp4", handle, "video/mp4")},
        )
    assert r.status_code == 503
    assert r.headers["retry-after"] == "10"
    assert r.json() == {
        "detail": "The processing queue is unavailable; nothing was kept. Try again shortly."
    }
    assert lesson_ids(world) == before


def test_a_file_that_is_not_a_recording_is_415_with_the_reason(world: World) -> None:
    r = world.client.post(
        "/api/v1/lessons",
        headers=world.auth("ect_a"),
        files={"file": ("lesson.mp4", b"just some text, not a video\n" * 10, "video/mp4")},
    )
    assert r.status_code == 415
    assert set(r.json()) == {"detail"} and r.json()["detail"]
    assert "retry-after" not in r.headers


def test_a_database_whose_connections_are_all_busy_is_503_not_500(world: World) -> None:
    """Readers that cannot get a pooled connection in time (every one held, as on a loaded
    machine with many clients) are told to come back, with a stable code, instead of a 500."""
    engine = create_engine(
        world.settings.database_url, pool_size=1, max_overflow=0, pool_timeout=0.2
    )
    held = engine.connect()  # the pool's only connection, busy for the whole request

    def starved_session() -> Iterator[Session]:
        session = Session(engine)
        try:
            yield session
        finally:
            session.close()

    world.app.dependency_overrides[get_session] = starved_session
    try:
        r = world.client.get("/api/v1/lessons", headers=world.auth("ect_a"))
    finally:
        held.close()
        engine.dispose()
    assert r.status_code == 503
    assert r.headers["retry-after"] == "5"
    assert r.json() == {
        "detail": "The database is busy for a moment; try again shortly.",
        "code": "database_busy",
    }
    del world.app.dependency_overrides[get_session]
    assert world.client.get("/api/v1/lessons", headers=world.auth("ect_a")).status_code == 200
