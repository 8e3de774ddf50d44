"""A coach's batch: many recordings through the task queue, resumable, one summary at the end.

    find_recordings(paths, recursive)   which files are recordings, and where each one's
                                        transcripts go under OUT (mirroring the input tree)
    Manifest                            OUT/.clipcoach-batch.json: what earlier runs did,
                                        keyed by the recording's SHA-256
    Batch.run(observer)                 submit, watch the database, export, summarise
    LocalWorkers                        `--workers N`: Celery workers started (and stopped) by
                                        the batch, on the same settings

Why the manifest lives in OUT rather than only in the database: the outputs and the record of how
they were made travel together, so a re-run into the same OUT knows what is done even if the
database was reset, and a second OUT is a fresh batch. The database stays the truth about a
lesson's processing; the manifest only remembers which lesson belongs to which checksum.

Resume: a lesson id is chosen and written to the manifest *before* the lesson row and the queue
message exist, and each later step is recorded after it happens. A run killed at any point
therefore leaves either nothing, or a lesson the next run finds by id and re-attaches to (it
sends the task again only when the lesson never started). Queued stage messages survive the
kill: the filesystem broker and Redis both keep them, and the worker started by the killed run
shuts down warmly (it is told to by the kernel, `PR_SET_PDEATHSIG`), returning what it had
reserved.

Failures with a cause in the file itself (empty, not media, unreadable, too long) are not retried
on a re-run, since the same bytes fail the same way; other failures are (`--retry-failed` retries
all).
"""

from __future__ import annotations

import contextlib
import ctypes
import enum
import fcntl
import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, Protocol

from sqlalchemy import func, select

from models.account import new_id
from models.db import session_scope
from models.intake import add_lesson_from_file
from models.lesson import Lesson, LessonStage, LessonStatus, StageStatus, lesson_key
from models.mediatype import SNIFF_BYTES, NotARecordingError, sniff
from models.queue import PROCESS_LESSON, send_task
from models.settings import Settings
from models.storage import Storage
from pipeline.captions import FORMATS
from workers.children import Children

log = logging.getLogger(__name__)

MANIFEST_NAME = ".clipcoach-batch.json"
LOCK_NAME = ".clipcoach-batch.lock"
MANIFEST_VERSION = 1

MEDIA_SUFFIXES = frozenset(
    {
        # video
        ".mp4", ".m4v", ".mov", ".qt", ".mkv", ".webm", ".avi", ".wmv", ".asf", ".flv", ".mpg",
        ".mpeg", ".m2v", ".ts", ".mts", ".m2ts", ".3gp", ".3g2", ".ogv", ".mxf", ".dv", ".vob",
        ".hevc", ".h264",
        # audio
        ".mp3", ".m4a", ".aac", ".wav", ".flac", ".ogg", ".oga", ".opus", ".wma", ".aif", ".aiff",
        ".amr", ".caf", ".mka", ".ac3",
    }
)  # fmt: skip
"""Files with these suffixes are taken as recordings without looking inside: a PDF renamed
`.mp4` is then reported as "not media" rather than silently passed over, which is what a coach
who put it in the folder wants to know."""

PERMANENT_ERRORS = frozenset(
    ("empty_file", "not_media", "no_streams", "unreadable_media", "too_long")
)
"""Error codes caused by the bytes of the file; re-running cannot change them."""


# ---------------------------------------------------------------------------------------------
# Finding recordings


def sniff_media(head: bytes) -> bool:
    """Whether the first bytes of a file look like a recording, by the API's own rule
    (`models.mediatype`), so a file the batch takes is one an upload would take too.

    Used for files whose name does not say what they are (no suffix, `.dat`, a camera's own
    suffix); ffprobe has the final word later.
    """
    try:
        sniff(head)
    except NotARecordingError:
        return False
    return True


def is_recording(path: Path) -> bool:
    """A media suffix, or content that sniffs as media."""
    if path.suffix.lower() in MEDIA_SUFFIXES:
        return True
    try:
        with open(path, "rb") as handle:
            return sniff_media(handle.read(SNIFF_BYTES))
    except OSError:
        return False


@dataclass(frozen=True)
class Recording:
    """One input file and where its transcripts go: OUT/<out_stem>.<format>."""

    path: Path
    rel: PurePosixPath
    """The file's place in the input tree, as shown to the coach."""
    out_stem: PurePosixPath

    def output(self, out: Path, fmt: str) -> Path:
        return out / f"{self.out_stem}.{fmt}"


def _walk(root: Path, recursive: bool, skip: Path | None) -> Iterator[Path]:
    """Files under `root` in a stable order, leaving out hidden entries and the output folder."""
    try:
        entries = sorted(root.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        log.warning("cannot list %s: %s", root, exc)
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if skip is not None and entry.resolve() == skip:
            continue
        if entry.is_dir():
            if recursive and not entry.is_symlink():  # a linked folder could loop back
                yield from _walk(entry, recursive, skip)
        elif entry.is_file():
            yield entry


def find_recordings(
    paths: Sequence[Path], *, recursive: bool = False, out: Path | None = None
) -> list[Recording]:
    """The recordings named by `paths`, each with an output place that mirrors the input tree.

    A file named on the command line is always taken (if it is not media, the summary says so).
    Inside folders, files are taken by suffix or content. With one folder argument its contents
    map straight onto OUT; with several arguments each folder keeps its own name under OUT so
    two folders' `lesson1.mp4` do not collide.
    """
    skip = out.resolve() if out is not None else None
    single_folder = len(paths) == 1 and paths[0].is_dir()
    found: list[tuple[Path, PurePosixPath]] = []
    seen: set[Path] = set()
    for root in paths:
        if root.is_dir():
            base = PurePosixPath() if single_folder else PurePosixPath(root.resolve().name)
            for file in _walk(root, recursive, skip):
                if is_recording(file) and file.resolve() not in seen:
                    seen.add(file.resolve())
                    found.append((file, base / file.relative_to(root).as_posix()))
        elif root.resolve() not in seen:
            seen.add(root.resolve())
            found.append((root, PurePosixPath(root.name)))
    return _assign_outputs(found)


def _assign_outputs(found: Iterable[tuple[Path, PurePosixPath]]) -> list[Recording]:
    """Output stems: `a/lesson.mp4` -> `a/lesson`, unless two inputs would share one.

    `lesson.mp4` beside `lesson.m4a` keep their suffixes (`lesson.mp4.vtt`); any remaining clash
    (the same name under two arguments) gets a counter.
    """
    items = list(found)
    stems: dict[PurePosixPath, int] = {}
    for _, rel in items:
        stem = rel.with_suffix("")
        stems[stem] = stems.get(stem, 0) + 1
    taken: set[PurePosixPath] = set()
    recordings = []
    for path, rel in items:
        stem = rel.with_suffix("") if stems[rel.with_suffix("")] == 1 else rel
        candidate, n = stem, 1
        while candidate in taken:
            n += 1
            candidate = stem.with_name(f"{stem.name}-{n}")
        taken.add(candidate)
        recordings.append(Recording(path=path, rel=rel, out_stem=candidate))
    return recordings


def sha256_file(path: Path, chunk: int = 4 * 1024 * 1024) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# The manifest


class EntryState(enum.StrEnum):
    created = "created"
    """A lesson id was chosen; the lesson row and queue message may not exist yet."""
    sent = "sent"
    """The lesson was sent to the queue."""
    done = "done"
    failed = "failed"


class Manifest:
    """OUT/.clipcoach-batch.json, rewritten atomically after every change.

    `entries` maps a checksum to what happened to that content (lesson id, state, options,
    error); `checksums` caches path/size/mtime -> checksum so a re-run over a folder of hour-long
    recordings does not read every byte again.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        self.checksums: dict[str, dict[str, Any]] = {}
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise BatchError(
                    f"{path} is not a readable batch manifest ({exc}); move it away to start afresh"
                ) from exc
            if data.get("version") == MANIFEST_VERSION:
                self.entries = dict(data.get("entries", {}))
                self.checksums = dict(data.get("checksums", {}))

    def save(self) -> None:
        data = {"version": MANIFEST_VERSION, "entries": self.entries, "checksums": self.checksums}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".manifest.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=1, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def checksum(self, path: Path) -> str:
        """The file's SHA-256, from the cache when its size and modification time are unchanged."""
        stat = path.stat()
        key = str(path.resolve())
        cached = self.checksums.get(key)
        if cached and cached["size"] == stat.st_size and cached["mtime_ns"] == stat.st_mtime_ns:
            return str(cached["sha256"])
        digest = sha256_file(path)
        self.checksums[key] = {
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "sha256": digest,
        }
        return digest

    def update(self, sha256: str, **values: Any) -> dict[str, Any]:
        entry = self.entries.setdefault(sha256, {})
        entry.update(values)
        self.save()
        return entry


@contextlib.contextmanager
def out_folder_lock(out: Path) -> Iterator[None]:
    """Hold OUT for this run: two batches writing one manifest would lose each other's work.

    An advisory lock dies with its process, so a killed run never leaves OUT locked.
    """
    out.mkdir(parents=True, exist_ok=True)
    handle: IO[str] = open(out / LOCK_NAME, "w")  # noqa: SIM115 - held for the whole run
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BatchError(f"another batch is writing to {out}; wait for it to finish") from None
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()


# ---------------------------------------------------------------------------------------------
# Items, options and the observer


class BatchError(Exception):
    """The batch cannot go on at all (as opposed to one file failing)."""


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
class BatchItem:
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


class BatchObserver(Protocol):
    def item_changed(self, item: BatchItem) -> None:
        """Called whenever an item's state, stage or progress changes."""


class _QuietObserver:
    def item_changed(self, item: BatchItem) -> None:
        pass


Submit = Callable[[str], None]
"""Sends PROCESS_LESSON for a lesson id."""


def _send_process(lesson_id: str) -> None:
    send_task(PROCESS_LESSON, lesson_id)


# ---------------------------------------------------------------------------------------------
# The run


@dataclass
class _Job:
    """One checksum's processing; several identical files in a batch share one lesson."""

    sha256: str
    items: list[BatchItem]
    lesson_id: str | None = None
    needs_submit: bool = False
    resend: bool = False
    """The lesson exists and must be (re)started with PROCESS_LESSON."""


class Batch:
    """Process `recordings` into `out`; `run` returns every item in its final state."""

    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        recordings: Sequence[Recording],
        out: Path,
        options: BatchOptions = BatchOptions(),
        *,
        submit: Submit = _send_process,
        alive: Callable[[], str | None] = lambda: None,
    ) -> None:
        """`alive` returns why processing cannot go on (a worker died), or None while it can."""
        self.settings = settings
        self.storage = storage
        self.items = [BatchItem(r) for r in recordings]
        self.out = out
        self.options = options
        self.submit = submit
        self.alive = alive
        self.manifest = Manifest(out / MANIFEST_NAME)
        self.fingerprint = json.dumps(options.lesson_options(), sort_keys=True)
        self.observer: BatchObserver = _QuietObserver()
        self._jobs: list[_Job] = []

    def run(self, observer: BatchObserver | None = None) -> list[BatchItem]:
        """Prepare and process in one go (for callers that need nothing started in between)."""
        self.prepare(observer)
        return self.process()

    def prepare(self, observer: BatchObserver | None = None) -> bool:
        """Checksum every file and decide what to do; True if anything needs a worker.

        Files already done are settled here, so a caller can skip starting workers for a
        re-run that has nothing left to process.
        """
        if observer is not None:
            self.observer = observer
        self._jobs = self._plan()
        return bool(self._jobs)

    def process(self) -> list[BatchItem]:
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

    def _finish_skipped(self, item: BatchItem, entry: dict[str, Any]) -> None:
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
            self.submit(job.lesson_id)
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
        self.submit(lesson_id)
        self.manifest.update(job.sha256, state=EntryState.sent)

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

    def _change(self, item: BatchItem, **values: Any) -> None:
        changed = False
        for name, value in values.items():
            if getattr(item, name) != value:
                setattr(item, name, value)
                changed = True
        if changed:
            self.observer.item_changed(item)


# ---------------------------------------------------------------------------------------------
# Local workers


def _die_with_parent() -> None:
    """In the worker child: ask the kernel for SIGTERM when the batch process dies, however it
    dies (even SIGKILL), so a killed batch never leaves workers behind. Celery takes SIGTERM as a
    warm shutdown: the running stage finishes and reserved messages go back to the queue."""
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)


def worker_commands(concurrency: int, schedule: Path, loglevel: str = "info") -> list[list[str]]:
    """`clipcoach serve`'s lesson pool and sweep worker (so queues and the sweep stay in step
    with it: the sweep in a process of its own, never behind a long transcription), with host
    names of their own and a beat schedule file of its own: a `clipcoach serve` on the same data
    folder may be running beside them."""
    from models.queue import MAINTENANCE_QUEUE
    from workers.cli import _worker_command  # the CLI imports this module: import late

    pool = _worker_command("media,transcribe", concurrency, loglevel)
    sweeper = _worker_command(MAINTENANCE_QUEUE, 1, loglevel, beat=True)
    sweeper[sweeper.index("--schedule") + 1] = str(schedule)
    return [
        [*pool, "--hostname", f"batch-{os.getpid()}@%h"],
        [*sweeper, "--hostname", f"batch-sweep-{os.getpid()}@%h"],
    ]


class LocalWorkers:
    """Celery workers for the length of a batch: a pool of `count` processes, and the sweep with
    its scheduler (beat) in one of its own.

    Their log goes to a file (the terminal belongs to the progress display). The sweep requeues a
    stage whose worker or message was lost, e.g. by a killed earlier run. Stopped with SIGTERM
    (warm: running stages finish) and, past `stop_timeout`, killed with all they started.
    """

    def __init__(self, count: int, log_path: Path, *, stop_timeout: float = 60.0) -> None:
        self.count = count
        self.log_path = log_path
        self.stop_timeout = stop_timeout
        self.children = Children()
        self._schedule = log_path.parent / f".batch-beat-{os.getpid()}"

    def __enter__(self) -> LocalWorkers:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log_file:
            for command in worker_commands(self.count, self._schedule):
                self.children.start(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    preexec_fn=_die_with_parent if sys.platform == "linux" else None,
                )
        return self

    def problem(self) -> str | None:
        """Why the workers can no longer process anything, or None while they run."""
        for proc in self.children.procs:
            if proc.poll() is not None:
                return (
                    f"the local worker stopped (exit code {proc.returncode}); see {self.log_path}"
                )
        return None

    def __exit__(self, *exc: object) -> None:
        try:
            self.children.stop(self.stop_timeout)
        finally:
            for leftover in self._schedule.parent.glob(f"{self._schedule.name}*"):
                leftover.unlink(missing_ok=True)
