"""One run of a batch: the state machine that takes each recording from waiting to done,
skipped or failed, through the task queue, watching the database and exporting transcripts.

    BatchRun.prepare(observer)   checksum every file and decide, per distinct content, what to do
    BatchRun.process()           submit a window at a time, watch the database, export

Resume: a lesson id is chosen and written to the manifest *before* the lesson row and the queue
message exist, and each later step is recorded after it happens. A run killed at any point
therefore leaves either nothing, or a lesson the next run finds by id and re-attaches to (it
sends the task again only when the lesson never started). Queued stage messages survive the
kill: the filesystem broker and Redis both keep them.

Failures with a cause in the file itself (empty, not media, unreadable, too long) are not retried
on a re-run, since the same bytes fail the same way; other failures are (`--retry-failed` retries
all).

`BatchRun` and `RunItem` live only in memory for one command; the `Batch` and `BatchItem` tables
of `models.batch` are the API's batches, a different thing.
"""

from __future__ import annotations

import enum
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func, select

from models.account import new_id
from models.db import session_scope
from models.intake import add_lesson_from_file
from models.lesson import Lesson, LessonStage, LessonStatus, StageStatus, lesson_key
from models.queue import PROCESS_LESSON, CeleryQueue, TaskQueue
from models.settings import Settings
from models.storage import Storage
from pipeline.captions import FORMATS
from workers.batch.discovery import Recording
from workers.batch.errors import BatchError
from workers.batch.manifest import MANIFEST_NAME, EntryState, Manifest

PERMANENT_ERRORS = frozenset(
    ("empty_file", "not_media", "no_streams", "unreadable_media", "too_long")
)
"""Error codes caused by the bytes of the file; re-running cannot change them."""


class ItemState(enum.StrEnum):
    waiting = "waiting"
    checking = "checking"
    queued = "queued"
    processing = "processing"
    exporting = "exporting"
    done = "done"
    skipped = "skipped"
    failed = "failed"


FINAL_STATES = (ItemState.done, ItemState.skipped, ItemState.failed)


@dataclass
class RunItem:
    """One recording's part in this run, as the observer and the summary see it."""

    recording: Recording
    state: ItemState = ItemState.waiting
    sha256: str = ""
    lesson_id: str | None = None
    stage: str | None = None
    progress: int = 0
    error_code: str | None = None
    error_message: str | None = None
    note: str = ""
    outputs: list[Path] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATES


@dataclass(frozen=True)
class BatchOptions:
    formats: tuple[str, ...] = FORMATS
    model: str | None = None
    language: str | None = None
    vocabulary: tuple[str, ...] = ()
    retry_failed: bool = False
    max_in_flight: int = 4
    """Lessons submitted and not yet finished; the rest wait, so sources are copied into
    storage as workers get to them rather than all at once, and an interrupted run leaves few
    lessons half-way."""
    poll_interval: float = 0.5

    def lesson_options(self) -> dict[str, Any]:
        """What goes into `Lesson.options`, read by workers.options for this lesson only."""
        options: dict[str, Any] = {}
        if self.model:
            options["model"] = self.model
        if self.language:
            options["language"] = self.language
        if self.vocabulary:
            options["vocabulary"] = list(self.vocabulary)
        return options


class RunObserver(Protocol):
    def item_changed(self, item: RunItem) -> None:
        """Called whenever an item's state, stage or progress changes."""


class _QuietObserver:
    def item_changed(self, item: RunItem) -> None:
        pass


@dataclass
class _Job:
    """One checksum's processing; several identical files in a batch share one lesson."""

    sha256: str
    items: list[RunItem]
    lesson_id: str | None = None
    needs_submit: bool = False
    resend: bool = False
    """The lesson exists and must be (re)started with PROCESS_LESSON."""


class BatchRun:
    """Process `recordings` into `out`; `run` returns every item in its final state."""

    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        recordings: Sequence[Recording],
        out: Path,
        options: BatchOptions = BatchOptions(),
        *,
        queue: TaskQueue | None = None,
        alive: Callable[[], str | None] = lambda: None,
    ) -> None:
        """`queue` takes each lesson's PROCESS_LESSON (Celery unless one is given); `alive`
        returns why processing cannot go on (a worker died), or None while it can."""
        self.settings = settings
        self.storage = storage
        self.items = [RunItem(r) for r in recordings]
        self.out = out
        self.options = options
        self.queue: TaskQueue = queue if queue is not None else CeleryQueue()
        self.alive = alive
        self.manifest = Manifest(out / MANIFEST_NAME)
        self.fingerprint = json.dumps(options.lesson_options(), sort_keys=True)
        self.observer: RunObserver = _QuietObserver()
        self._jobs: list[_Job] = []

    def run(self, observer: RunObserver | None = None) -> list[RunItem]:
        """Prepare and process in one go (for callers that need nothing started in between)."""
        self.prepare(observer)
        return self.process()

    def prepare(self, observer: RunObserver | None = None) -> bool:
        """Checksum every file and decide what to do; True if anything needs a worker.

        Files already done are settled here, so a caller can skip starting workers for a
        re-run that has nothing left to process.
        """
        if observer is not None:
            self.observer = observer
        self._jobs = self._plan()
        return bool(self._jobs)

    def process(self) -> list[RunItem]:
        """Submit the prepared jobs a window at a time and watch them to the end."""
        waiting = [job for job in self._jobs if job.needs_submit or job.resend]
        in_flight = [job for job in self._jobs if job.lesson_id and job not in waiting]
        for job in in_flight:
            self._set(job, ItemState.queued)
        while waiting or in_flight:
            while waiting and len(in_flight) < self.options.max_in_flight:
                job = waiting.pop(0)
                self._start(job)
                if not all(item.finished for item in job.items):
                    in_flight.append(job)
            if not in_flight:
                continue
            problem = self.alive()
            if problem:
                raise BatchError(problem)
            time.sleep(self.options.poll_interval)
            in_flight = [job for job in self._poll(in_flight) if not job.items[0].finished]
        return self.items

    # -- planning ------------------------------------------------------------------------------

    def _plan(self) -> list[_Job]:
        """Checksum every file and decide, per distinct content, what this run must do."""
        by_sha: dict[str, _Job] = {}
        for item in self.items:
            self._change(item, state=ItemState.checking)
            try:
                item.sha256 = self.manifest.checksum(item.recording.path)
            except OSError as exc:
                self._change(
                    item,
                    state=ItemState.failed,
                    error_code="unreadable_file",
                    error_message=f"cannot read the file: {exc.strerror or exc}",
                )
                continue
            if item.sha256 in by_sha:
                by_sha[item.sha256].items.append(item)
            else:
                by_sha[item.sha256] = _Job(item.sha256, [item])
            self._change(item, state=ItemState.waiting)
        if by_sha:
            self.manifest.save()  # keep the checksum cache even if this run is killed
        jobs = list(by_sha.values())
        for job in jobs:
            self._decide(job)
        return [job for job in jobs if not all(item.finished for item in job.items)]

    def _decide(self, job: _Job) -> None:
        entry = self.manifest.entries.get(job.sha256)
        if entry is None or entry.get("options") != self.fingerprint:
            job.needs_submit = True
            return
        job.lesson_id = entry.get("lesson_id")
        state = entry.get("state")
        lesson = self._read_lesson(job.lesson_id) if job.lesson_id else None
        if state == EntryState.done:
            if self._outputs_present(job, entry):
                for item in job.items:
                    self._finish_skipped(item, entry)
                return
            if lesson is not None and lesson["status"] == LessonStatus.ready:
                self._export(job, lesson)  # outputs were deleted, or new formats: no new work
                return
            job.needs_submit, job.lesson_id = True, None
            return
        if state == EntryState.failed:
            code = entry.get("error_code")
            if code in PERMANENT_ERRORS and not self.options.retry_failed:
                for item in job.items:
                    self._change(
                        item,
                        state=ItemState.failed,
                        lesson_id=job.lesson_id,
                        error_code=code,
                        error_message=entry.get("error_message"),
                        note="failed in an earlier run; not retried",
                    )
                return
            job.resend = lesson is not None
            job.needs_submit = lesson is None
            if job.needs_submit:
                job.lesson_id = None
            return
        # created or sent: an earlier run stopped while this lesson was on its way
        if lesson is None:
            job.needs_submit = True  # keep the chosen id: the row was never written
        elif lesson["status"] == LessonStatus.failed and lesson["error_code"] not in (
            PERMANENT_ERRORS
        ):
            job.resend = True
        elif lesson["stages"] == 0 and lesson["status"] == LessonStatus.queued:
            job.resend = state == EntryState.created  # never sent; "sent" may still be queued

    def _outputs_present(self, job: _Job, entry: dict[str, Any]) -> bool:
        unavailable = set(entry.get("unavailable", []))
        return all(
            item.recording.output(self.out, fmt).is_file()
            for item in job.items
            for fmt in self.options.formats
            if fmt not in unavailable
        )

    def _finish_skipped(self, item: RunItem, entry: dict[str, Any]) -> None:
        outputs = [
            item.recording.output(self.out, fmt)
            for fmt in self.options.formats
            if item.recording.output(self.out, fmt).is_file()
        ]
        self._change(
            item,
            state=ItemState.skipped,
            lesson_id=entry.get("lesson_id"),
            progress=100,
            outputs=outputs,
            note="already done",
        )

    # -- submitting ----------------------------------------------------------------------------

    def _start(self, job: _Job) -> None:
        if job.resend:
            assert job.lesson_id is not None  # noqa: S101 - narrows a type the code above guarantees
            self.manifest.update(job.sha256, state=EntryState.created, error_code=None)
            self._restart(job.lesson_id)
            self._submit(job.lesson_id)
            self.manifest.update(job.sha256, state=EntryState.sent)
            self._set(job, ItemState.queued)
            return
        first = job.items[0].recording
        lesson_id = job.lesson_id or new_id()
        job.lesson_id = lesson_id
        self.manifest.update(
            job.sha256,
            lesson_id=lesson_id,
            state=EntryState.created,
            options=self.fingerprint,
            source=str(first.rel),
            error_code=None,
            error_message=None,
        )
        self._set(job, ItemState.queued)
        try:
            self._create_lesson(lesson_id, job.sha256, first.path)
        except OSError as exc:
            self._fail(
                job, "unreadable_file", f"cannot copy the file into storage: {exc.strerror or exc}"
            )
            return
        self._submit(lesson_id)
        self.manifest.update(job.sha256, state=EntryState.sent)

    def _submit(self, lesson_id: str) -> None:
        self.queue.send(PROCESS_LESSON, lesson_id)

    def _create_lesson(self, lesson_id: str, sha256: str, source: Path) -> None:
        """The lesson row and its source object, unless an interrupted run already made them."""
        with session_scope(self.settings.database_url) as session:
            if session.get(Lesson, lesson_id) is not None:
                return
        with session_scope(self.settings.database_url) as session:
            add_lesson_from_file(
                session,
                self.storage,
                source,
                filename=source.name,
                extension=source.suffix,
                sha256=sha256,
                options=self.options.lesson_options(),
                lesson_id=lesson_id,
            )

    def _restart(self, lesson_id: str) -> None:
        """Put a failed lesson back to queued so `start_lesson` runs it from the beginning."""
        with session_scope(self.settings.database_url) as session:
            lesson = session.get(Lesson, lesson_id)
            if lesson is not None:
                lesson.status, lesson.error_code, lesson.error_message = (
                    LessonStatus.queued,
                    None,
                    None,
                )

    # -- watching ------------------------------------------------------------------------------

    def _read_lesson(self, lesson_id: str) -> dict[str, Any] | None:
        return self._read_lessons([lesson_id]).get(lesson_id)

    def _read_lessons(self, lesson_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        with session_scope(self.settings.database_url) as session:
            lessons = session.scalars(select(Lesson).where(Lesson.id.in_(lesson_ids))).all()
            stage_counts = dict(
                session.execute(
                    select(LessonStage.lesson_id, func.count())
                    .where(LessonStage.lesson_id.in_(lesson_ids))
                    .group_by(LessonStage.lesson_id)
                ).all()
            )
            running: dict[str, list[str]] = {}
            for lesson_id, name in session.execute(
                select(LessonStage.lesson_id, LessonStage.name)
                .where(
                    LessonStage.lesson_id.in_(lesson_ids),
                    LessonStage.status == StageStatus.running,
                )
                .order_by(LessonStage.id)
            ):
                running.setdefault(lesson_id, []).append(name)
            return {
                lesson.id: {
                    "status": lesson.status,
                    # Parallel branches run at once (normalise beside transcribe): show them all.
                    "stage": "+".join(running.get(lesson.id, [])) or lesson.stage,
                    "progress": lesson.progress,
                    "error_code": lesson.error_code,
                    "error_message": lesson.error_message,
                    "has_audio": lesson.has_audio,
                    "warnings": list(lesson.warnings or []),
                    "stages": stage_counts.get(lesson.id, 0),
                }
                for lesson in lessons
            }

    def _poll(self, jobs: list[_Job]) -> list[_Job]:
        lessons = self._read_lessons([job.lesson_id for job in jobs if job.lesson_id])
        for job in jobs:
            lesson = lessons.get(job.lesson_id or "")
            if lesson is None:
                if self.manifest.entries.get(job.sha256, {}).get("state") == EntryState.sent:
                    self._fail(job, "lesson_missing", "the lesson was deleted while processing")
                continue
            status = lesson["status"]
            if status == LessonStatus.ready:
                self._export(job, lesson)
            elif status == LessonStatus.failed:
                self._fail(job, lesson["error_code"], lesson["error_message"])
            else:
                state = (
                    ItemState.processing if status == LessonStatus.processing else ItemState.queued
                )
                for item in job.items:
                    self._change(
                        item, state=state, stage=lesson["stage"], progress=lesson["progress"]
                    )
        return jobs

    # -- finishing -----------------------------------------------------------------------------

    def _export(self, job: _Job, lesson: dict[str, Any]) -> None:
        """Copy the chosen transcript formats out of storage into each recording's place."""
        assert job.lesson_id is not None  # noqa: S101 - only a job whose lesson is ready exports
        self._set(job, ItemState.exporting)
        unavailable: list[str] = []
        for item in job.items:
            outputs = []
            for fmt in self.options.formats:
                key = lesson_key(job.lesson_id, f"transcript.{fmt}")
                if not self.storage.exists(key):
                    if fmt not in unavailable:
                        unavailable.append(fmt)
                    continue
                dst = item.recording.output(self.out, fmt)
                dst.parent.mkdir(parents=True, exist_ok=True)
                self.storage.get_file(key, dst)
                outputs.append(dst)
            note = ""
            if unavailable:
                reasons = [w for w in lesson["warnings"] if "transcri" in w.lower()]
                note = reasons[0] if reasons else "no transcript was made"
            self._change(item, state=ItemState.done, progress=100, outputs=outputs, note=note)
        self.manifest.update(
            job.sha256,
            lesson_id=job.lesson_id,
            state=EntryState.done,
            options=self.fingerprint,
            unavailable=unavailable,
            error_code=None,
            error_message=None,
        )

    def _fail(self, job: _Job, code: str | None, message: str | None) -> None:
        code = code or "failed"
        message = message or "processing failed"
        for item in job.items:
            self._change(item, state=ItemState.failed, error_code=code, error_message=message)
        self.manifest.update(
            job.sha256,
            lesson_id=job.lesson_id,
            state=EntryState.failed,
            options=self.fingerprint,
            error_code=code,
            error_message=message,
        )

    def _set(self, job: _Job, state: ItemState) -> None:
        for item in job.items:
            self._change(item, state=state, lesson_id=job.lesson_id)

    def _change(self, item: RunItem, **values: Any) -> None:
        changed = False
        for name, value in values.items():
            if getattr(item, name) != value:
                setattr(item, name, value)
                changed = True
        if changed:
            self.observer.item_changed(item)
