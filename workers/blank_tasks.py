"""Blanking a stored lesson on a worker: fetch its files, rewrite them, store them over the old.

`clipcoach.lesson.blank` takes a lesson id, like every task. It claims the lesson's pending
blanked moments (models.blanks.claim), fetches every file processing made into a scratch folder,
runs `pipeline.blanking.blank_lesson_files` over the claimed ranges, and only when all of that
has worked stores each rewritten file over its object (every `put_file` replaces an object all
or nothing: the new bytes are written first, then swapped in). The source keeps its key unless
its name changes (a `source.mov` blanked into `source.mp4`): then the new object is stored, the
lesson row pointed at it, and the old object deleted. Search follows the blanked transcript.
The blanks are marked applied (audited `lesson.blank_applied`, times only) and the run claims
again, so blanks added meanwhile are written by the same run.

A pipeline failure marks the claimed blanks failed with its code; nothing has been stored, so
the lesson stays as it was. Storage or database outages hand the claim back and retry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import uuid
from pathlib import Path, PurePosixPath

from celery import Task
from sqlalchemy import update
from sqlalchemy.orm import Session

from models import audit, search
from models.blanks import BlankClaim, claim, finish, release
from models.db import session_scope
from models.lesson import Lesson, lesson_key, lesson_prefix
from models.queue import BLANK_LESSON
from models.settings import Settings, get_settings
from models.storage import Storage, shared_storage
from models.transcription import TranscriptVersion
from pipeline.blanking import TRANSCRIPTS_DIR, BlankedFiles
from pipeline.errors import PipelineError
from pipeline.lesson import (
    ANALYTICS,
    AUDIO,
    PROBE,
    SCENES,
    SEGMENTS,
    SOURCE_STEM,
    SPEAKERS,
    SPEECH_REGIONS,
    THUMBNAIL_FILES,
    TRANSCRIPT_FILES,
)
from workers.app import app
from workers.options import lesson_options
from workers.tasks import RETRY, TRANSIENT

log = logging.getLogger(__name__)

LESSON_FILES = frozenset(
    {AUDIO, PROBE, SCENES, SEGMENTS, ANALYTICS, SPEECH_REGIONS, SPEAKERS}
    | set(THUMBNAIL_FILES)
    | set(TRANSCRIPT_FILES)
)
"""The files processing made that blanking reads or rewrites (beside the source and the browser
copy); rendered clips (`clips/`) are not among them: they were thrown away when the blank was
added."""
INTERNAL_ERROR = (
    "internal_error",
    "Something went wrong on our side while blanking the stored recording; it was left as it "
    "was. Clips over the moment are still black and silent.",
)


def _storage() -> Storage:
    return shared_storage(get_settings().storage_url)


@app.task(name=BLANK_LESSON, bind=True, **RETRY)
def blank_lesson(self: Task, lesson_id: str) -> None:
    """Write the lesson's pending blanked moments into its stored files."""
    apply_blanks(get_settings(), _storage(), lesson_id, str(self.request.id or uuid.uuid4()))


def _wanted(prefix: str, key: str) -> bool:
    name = key.removeprefix(prefix + "/")
    if name in LESSON_FILES:
        return True
    parts = name.split("/")
    return len(parts) == 3 and parts[0] == TRANSCRIPTS_DIR and parts[2] in TRANSCRIPT_FILES


def _fetch(storage: Storage, job: BlankClaim, workdir: Path) -> tuple[str, bool]:
    """The lesson's files into `workdir` under processing's names; (media name, source found)."""
    prefix = lesson_prefix(job.lesson_id)
    for key in storage.list_keys(prefix):
        if _wanted(prefix, key):
            dst = workdir / key.removeprefix(prefix + "/")
            dst.parent.mkdir(parents=True, exist_ok=True)
            storage.get_file(key, dst)
    media_name = PurePosixPath(job.media_key).name
    storage.get_file(job.media_key, workdir / media_name)
    has_source = bool(job.source_key) and storage.exists(job.source_key)
    if has_source:
        suffix = PurePosixPath(job.source_key).suffix.lower()[:12]
        storage.get_file(job.source_key, workdir / f"{SOURCE_STEM}{suffix}")
    return media_name, has_source


def _store(storage: Storage, job: BlankClaim, workdir: Path, done: BlankedFiles) -> str | None:
    """Store every rewritten file over its object; the new source key when it changed."""
    new_source_key = None
    for name in done.rewritten:
        path = workdir / name
        if name == done.source:
            new_source_key = str(PurePosixPath(job.source_key).with_name(name))
            storage.put_file(new_source_key, path)
        elif name == PurePosixPath(job.media_key).name:
            storage.put_file(job.media_key, path)
        elif path.exists():
            storage.put_file(lesson_key(job.lesson_id, name), path)
    return new_source_key


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _count_version_words(session: Session, lesson_id: str, left: dict[str, int]) -> None:
    """Kept versions' word counts after blanking (`v3` is version 3)."""
    for folder, words in left.items():
        number = folder.removeprefix("v")
        if number.isdigit():
            session.execute(
                update(TranscriptVersion)
                .where(
                    TranscriptVersion.lesson_id == lesson_id,
                    TranscriptVersion.number == int(number),
                )
                .values(words=words)
            )


def _rewrite(settings: Settings, storage: Storage, job: BlankClaim) -> None:
    """One claim: rewrite in scratch, store, then record it all in one transaction."""
    from pipeline.blanking import blank_lesson_files

    db = settings.database_url
    settings.scratch.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"{job.lesson_id}-blank-", dir=settings.scratch))
    try:
        media_name, has_source = _fetch(storage, job, workdir)
        if not has_source:
            log.warning("lesson %s: no stored source to blank", job.lesson_id)
        options = lesson_options(settings, job.options, transcribe=job.transcribe)
        done = blank_lesson_files(workdir, media_name, job.ranges, options)
        new_source_key = _store(storage, job, workdir, done)
        transcript = workdir / TRANSCRIPT_FILES[0]
        source_path = workdir / done.source if done.source else None
        with session_scope(db) as session:
            lesson = session.get(Lesson, job.lesson_id)
            if lesson is None:  # deleted meanwhile: its prefix is gone or going
                return
            if new_source_key is not None and source_path is not None:
                lesson.source_key = new_source_key
                lesson.source_size = source_path.stat().st_size
                lesson.source_sha256 = _sha256(source_path)
            if transcript.exists():
                search.index_transcript(session, lesson.id, json.loads(transcript.read_bytes()))
            _count_version_words(session, lesson.id, done.version_words)
            finish(session, job.blank_ids)
            audit.record(
                session, None, "lesson.blank_applied", "lesson", lesson.id,
                blank_ids=list(job.blank_ids), ranges=[list(r) for r in job.ranges],
                words_removed=done.words_removed, files=len(done.rewritten),
                source_replaced=new_source_key is not None,
            )  # fmt: skip
        if new_source_key is not None and new_source_key != job.source_key:
            storage.delete(job.source_key)
        log.info(
            "lesson %s: blanked %s in %d stored files (%d words removed)",
            job.lesson_id, list(job.ranges), len(done.rewritten), done.words_removed,
        )  # fmt: skip
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def apply_blanks(settings: Settings, storage: Storage, lesson_id: str, token: str) -> int:
    """Rewrite the stored lesson for its pending blanks until none is left; how many runs."""
    db = settings.database_url
    runs = 0
    while True:
        with session_scope(db) as session:
            job = claim(session, lesson_id, token)
        if job is None:
            return runs
        runs += 1
        try:
            _rewrite(settings, storage, job)
        except PipelineError as exc:
            log.warning(
                "lesson %s: blanking failed: %s %s\n%s", lesson_id, exc.code, exc, exc.detail
            )
            with session_scope(db) as session:
                finish(session, job.blank_ids, (exc.code, exc.message))
        except TRANSIENT:
            with session_scope(db) as session:
                release(session, job.blank_ids)
            raise  # the task retries with backoff
        except Exception:
            log.exception("lesson %s: blanking crashed", lesson_id)
            with session_scope(db) as session:
                finish(session, job.blank_ids, INTERNAL_ERROR)
