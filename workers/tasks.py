"""Celery tasks: thin, named, taking ids, idempotent. The work itself is in workers.runner.

Each stage of pipeline.lesson.STAGES gets a task named `clipcoach.stage.<name>`, routed to its
queue (`media` or `transcribe`). A finished stage enqueues the stages it unblocks by name, so
workers on other hosts need nothing but the name. The API only ever sends
`clipcoach.lesson.process` (models.queue.PROCESS_LESSON) with a lesson id.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from models.queue import PROCESS_LESSON, TASK_PREFIX
from models.settings import get_settings
from models.storage import Storage, open_storage
from pipeline.lesson import STAGES
from workers import status
from workers.app import app
from workers.runner import execute_stage, fail_unexpectedly

log = logging.getLogger(__name__)

def stage_task_name(stage: str) -> str:
    return f"{TASK_PREFIX}stage.{stage}"


@functools.cache
def _storage() -> Storage:
    return open_storage(get_settings().storage_url)


def enqueue_stage(lesson_id: str, stage: str) -> None:
    app.send_task(stage_task_name(stage), args=[lesson_id], queue=STAGES[stage].queue)


@app.task(name=PROCESS_LESSON)
def process_lesson(lesson_id: str) -> None:
    """Start (or restart) a lesson's processing from its first stage."""
    for stage in status.start_lesson(get_settings().database_url, lesson_id):
        enqueue_stage(lesson_id, stage)


def _make_stage_task(stage: str) -> Any:
    @app.task(name=stage_task_name(stage))
    def run(lesson_id: str) -> None:
        try:
            execute_stage(get_settings(), _storage(), lesson_id, stage, enqueue_stage)
        except Exception:
            fail_unexpectedly(get_settings(), lesson_id, stage)

    run.__doc__ = f"Run the {stage} stage of one lesson."
    return run


stage_tasks = {stage: _make_stage_task(stage) for stage in STAGES}
