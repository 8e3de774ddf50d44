"""The task queue: Celery configuration from settings (Redis options, routing by task name,
delivery guarantees), the in-process queue, and the app using the queue it is given."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from models.account import Role
from models.accounts import create_user, issue_token
from models.db import session_scope
from models.queue import (
    CLIPS_QUEUE,
    MAINTENANCE_QUEUE,
    MEDIA_QUEUE,
    PROCESS_LESSON,
    RENDER_CLIP,
    SWEEP,
    TRANSCRIBE_QUEUE,
    CeleryQueue,
    InProcessQueue,
    celery_config,
    make_celery,
)
from models.settings import Settings
from pipeline.lesson import STAGES
from tests.mediafactory import make_video


def _redis_settings(url: str = "redis://127.0.0.1:6379/3") -> Settings:
    return Settings(broker_url=url, stage_timeout_seconds=2 * 3600)


def test_every_task_is_routed_by_name() -> None:
    app = make_celery(_redis_settings())
    router = app.amqp.router

    def queue_of(name: str) -> str:
        return str(router.route({}, name)["queue"].name)

    for stage, spec in STAGES.items():
        assert queue_of(f"clipcoach.stage.{stage}") == spec.queue
    assert queue_of("clipcoach.stage.transcribe") == TRANSCRIBE_QUEUE
    assert queue_of(PROCESS_LESSON) == MEDIA_QUEUE
    assert queue_of(RENDER_CLIP) == CLIPS_QUEUE
    assert queue_of(SWEEP) == MAINTENANCE_QUEUE


def test_delivery_guarantees_for_long_stages() -> None:
    config = celery_config(_redis_settings())
    assert config["task_acks_late"] is True
    assert config["task_reject_on_worker_lost"] is True
    assert config["worker_prefetch_multiplier"] == 1
    visibility = config["broker_transport_options"]["visibility_timeout"]
    # Redis must not redeliver a running stage's message before its hard time limit has passed.
    assert visibility > config["task_time_limit"] > 2 * 3600
    assert "global_keyprefix" not in config["broker_transport_options"]


@pytest.mark.parametrize(
    ("url", "expected_url", "prefix"),
    [
        (
            "redis://127.0.0.1:6379/2?key_prefix=school-a:",
            "redis://127.0.0.1:6379/2",
            "school-a:",
        ),
        (
            "redis://:pw@127.0.0.1:6379/0?key_prefix=t1:&socket_keepalive=true",
            "redis://:pw@127.0.0.1:6379/0?socket_keepalive=true",
            "t1:",
        ),
    ],
)
def test_key_prefix_option(url: str, expected_url: str, prefix: str) -> None:
    config = celery_config(_redis_settings(url))
    assert config["broker_url"] == expected_url
    assert config["broker_transport_options"]["global_keyprefix"] == prefix


def test_embedded_default_keeps_the_filesystem_broker(settings: Settings) -> None:
    config = celery_config(settings)
    assert config["broker_url"] == "filesystem://"
    assert "visibility_timeout" not in config["broker_transport_options"]


def test_in_process_queue_runs_handlers_and_keeps_their_errors() -> None:
    ran: list[str] = []

    def boom(_: str) -> None:
        raise RuntimeError("worker fell over")

    tasks = InProcessQueue({"a": ran.append, "b": boom})
    tasks.send("a", "lesson-1")
    tasks.send("b", "lesson-2")
    tasks.send("unhandled", "x")
    tasks.join()
    assert ran == ["lesson-1"]
    assert [name for name, _ in tasks.sent] == ["a", "b", "unhandled"]
    assert [str(e) for e in tasks.errors] == ["worker fell over"]


def test_the_app_sends_work_to_the_queue_it_was_given(settings: Settings) -> None:
    """No monkeypatching: the queue is an argument of create_app, read by the routes."""
    assert isinstance(create_app().state.task_queue, CeleryQueue)
    tasks = InProcessQueue()
    app = create_app(task_queue=tasks)
    with TestClient(app) as client:
        with session_scope(settings.database_url) as session:
            user, _ = create_user(session, "ect@school.test", "Ect", Role.ect, "a-long-password")
            token = issue_token(settings, user).token
        video = make_video(settings.data_dir / "clip.mp4", duration=1.0).path
        with video.open("rb") as f:
            answer = client.post(
                "/api/v1/lessons",
                files={"file": ("clip.mp4", f, "video/mp4")},
                headers={"Authorization": f"Bearer {token}"},
            )
    assert answer.status_code == 201, answer.text
    assert tasks.sent == [("clipcoach.lesson.process", (answer.json()["id"],))]
