"""Hardening fixtures: the API world (tests/api), the real services (tests/services), and a driver
that takes one recording through the workers' own stage code (`workers.runner.execute_stage`),
exactly as the Celery tasks do, then says what is left behind."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from models.db import session_scope
from models.lesson import Lesson, LessonStage, LessonStatus
from models.settings import Settings
from models.storage import open_storage
from tests.api.conftest import (  # noqa: F401
    inline_queue,
    live_server,
    media,
    world,
    world_template,
)
from tests.services import postgres_url, redis_broker_url, s3_server, s3_url  # noqa: F401
from workers import status
from workers.runner import execute_stage, fail_unexpectedly

log = logging.getLogger(__name__)


@dataclass
class Processed:
    lesson_id: str
    status: LessonStatus
    error_code: str | None
    error_message: str | None
    failed_stage: str | None
    warnings: list[str]
    keys: set[str]
    stages: dict[str, str] = field(default_factory=dict)
    crashed: list[str] = field(default_factory=list)
    """Stages that raised something other than a PipelineError (a bug)."""


def add_lesson(settings: Settings, source: Path, *, transcribe: bool = True) -> str:
    storage = open_storage(settings.storage_url)
    with session_scope(settings.database_url) as session:
        lesson = Lesson(
            source_key="pending", source_filename=source.name, title=source.stem,
            transcribe=transcribe,
        )  # fmt: skip
        session.add(lesson)
        session.flush()
        lesson.source_key = lesson.artefact_key(f"source{source.suffix}")
        storage.put_file(lesson.source_key, source)
        return lesson.id


def process(settings: Settings, source: Path, *, transcribe: bool = True) -> Processed:
    """Every stage of `source` through `execute_stage`, one after another, like the workers."""
    storage = open_storage(settings.storage_url)
    lesson_id = add_lesson(settings, source, transcribe=transcribe)
    pending = deque(status.start_lesson(settings.database_url, lesson_id))
    crashed = []
    for _ in range(50):  # seven stages; a loop that never ends is a bug, not a wait
        if not pending:
            break
        stage = pending.popleft()
        try:
            execute_stage(settings, storage, lesson_id, stage, lambda _l, nxt: pending.append(nxt))
        except Exception:  # noqa: BLE001 - what the Celery task does with a crash
            crashed.append(stage)
            fail_unexpectedly(settings, lesson_id, stage)
    else:
        raise AssertionError(f"stages still pending after 50 runs: {pending}")
    with session_scope(settings.database_url) as session:
        lesson = session.get(Lesson, lesson_id)
        assert lesson is not None
        stages = {s.name: s.status.value for s in session.query(LessonStage).filter_by(
            lesson_id=lesson_id)}  # fmt: skip
        failed = [s.name for s in lesson.stages if s.error_code]
        return Processed(
            lesson_id=lesson_id,
            status=lesson.status,
            error_code=lesson.error_code,
            error_message=lesson.error_message,
            failed_stage=failed[0] if failed else None,
            warnings=list(lesson.warnings or []),
            keys={k.rsplit("/", 1)[1] for k in storage.list_keys(f"lessons/{lesson_id}")},
            stages=stages,
            crashed=crashed,
        )


def leftovers(root: Path) -> list[Path]:
    """Temporary or half-written files under `root`: `.part`, `.incoming.*`, `.tmp`, hidden."""
    if not root.exists():
        return []
    return [
        p
        for p in root.rglob("*")
        if p.is_file()
        and (p.name.startswith(".") or p.name.endswith((".part", ".tmp")) or ".incoming" in p.name)
    ]
