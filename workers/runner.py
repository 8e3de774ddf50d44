"""One stage of one lesson on a worker: fetch inputs, run the pipeline, store outputs, move on.

Kept apart from the Celery task functions so it can be called (and tested) without a broker.
Inputs are fetched into a private scratch folder that is always removed afterwards, so a crashed
or failed stage leaves neither temporary files nor half-written objects behind (storage writes
are atomic).
"""

from __future__ import annotations

import errno
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from models import search
from models.db import session_scope
from models.lesson import lesson_key
from models.settings import Settings
from models.storage import Storage
from pipeline.errors import NoSpaceError, PipelineError
from pipeline.lesson import SOURCE_STEM, STAGES, TRANSCRIPT_FILES, run_stage
from workers import status
from workers.options import lesson_options, model_spec
from workers.sweep import Heartbeat

if TYPE_CHECKING:
    from pipeline.transcribe import ModelSpec, ProgressCallback, TranscribeOptions, Transcriber
    from pipeline.transcript import Transcript

log = logging.getLogger(__name__)

Enqueue = Callable[[str, str], None]
TranscriberFor = Callable[["ModelSpec"], "Transcriber"]
"""Makes the transcriber for a lesson's model (its options may name another model)."""


def whisper_for(spec: ModelSpec) -> Transcriber:
    """The default: faster-whisper with the named model (loaded once per process)."""
    from pipeline.transcribe import whisper_transcriber

    return whisper_transcriber(spec)


"""Called with (lesson_id, stage name) for each stage that has become ready."""

PROGRESS_INTERVAL_SECONDS = 1.0
INTERNAL_ERROR_MESSAGE = (
    "Something went wrong on our side while processing this recording. "
    "Try again later; if it keeps happening, tell your administrator (lesson {lesson_id})."
)


def _index_transcript(db: str, lesson_id: str, path: Path) -> None:
    """Search follows the new transcript (none, when transcription was skipped)."""
    with session_scope(db) as session:
        if path.exists():
            search.index_transcript(session, lesson_id, json.loads(path.read_bytes()))
        else:
            search.forget(session, lesson_id)


def _fetch_inputs(storage: Storage, ctx: status.StageContext, stage: str, workdir: Path) -> None:
    for name in STAGES[stage].inputs:
        if name == "source":
            suffix = PurePosixPath(ctx.source_key).suffix.lower()[:12]
            storage.get_file(ctx.source_key, workdir / f"{SOURCE_STEM}{suffix}")
        elif name == "media":
            if ctx.media_key:
                storage.get_file(ctx.media_key, workdir / PurePosixPath(ctx.media_key).name)
        else:
            key = lesson_key(ctx.lesson_id, name)
            if storage.exists(key):  # optional inputs: a skipped stage made nothing
                storage.get_file(key, workdir / name)


def execute_stage(
    settings: Settings,
    storage: Storage,
    lesson_id: str,
    stage: str,
    enqueue: Enqueue,
    transcriber_for: TranscriberFor = whisper_for,
) -> None:
    """Run `stage` for `lesson_id` if it is still wanted; idempotent and safe to redeliver.

    `transcriber_for` is only called by the transcribe stage, with the lesson's model."""
    db = settings.database_url
    ctx = status.begin_stage(db, lesson_id, stage)
    if ctx is None:
        log.info("lesson %s: stage %s has nothing to do", lesson_id, stage)
        return

    last_report = 0.0

    def on_progress(fraction: float) -> None:
        nonlocal last_report
        now = time.monotonic()
        if now - last_report >= PROGRESS_INTERVAL_SECONDS:
            last_report = now
            status.report_progress(db, lesson_id, stage, fraction)

    settings.scratch.mkdir(parents=True, exist_ok=True)
    # An earlier attempt of this stage killed on this host (SIGKILL, OOM) never ran its finally:
    # its folder would stay forever. The stage is being run again now, so that attempt is dead.
    for stale in settings.scratch.glob(f"{lesson_id}-{stage}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"{lesson_id}-{stage}-", dir=settings.scratch))
    try:
        with Heartbeat(db, lesson_id, stage):  # fetching a large source takes a while too
            _fetch_inputs(storage, ctx, stage, workdir)
        options = lesson_options(
            settings, ctx.options, transcribe=ctx.transcribe, pupil_names=ctx.pupil_names
        )

        def transcriber(
            audio: Path, chosen: TranscribeOptions, *, on_progress: ProgressCallback | None = None
        ) -> Transcript:
            """The lesson's model, named (and loaded) only when there is audio to transcribe."""
            run = transcriber_for(model_spec(settings, ctx.options))
            return run(audio, chosen, on_progress=on_progress)

        with Heartbeat(db, lesson_id, stage):
            outcome = run_stage(
                stage, workdir, options, transcriber=transcriber, on_progress=on_progress
            )
            for name in outcome.outputs:
                storage.put_file(lesson_key(lesson_id, name), workdir / name)
            if stage == "transcribe":
                _index_transcript(db, lesson_id, workdir / TRANSCRIPT_FILES[0])
    except NoSpaceError as exc:
        log.warning(
            "lesson %s: stage %s: no space left in %s\n%s", lesson_id, stage, workdir, exc.detail
        )
        status.fail_stage(db, lesson_id, stage, exc.code, NO_SPACE_MESSAGE.format(stage=stage))
        return
    except PipelineError as exc:
        log.warning(
            "lesson %s: stage %s failed: %s %s\n%s", lesson_id, stage, exc.code, exc, exc.detail
        )
        status.fail_stage(db, lesson_id, stage, exc.code, exc.message)
        return
    except OSError as exc:  # the worker's own writes: fetching the stage's inputs into scratch
        if exc.errno != errno.ENOSPC:
            raise
        log.warning("lesson %s: stage %s: no space left in %s", lesson_id, stage, workdir)
        status.fail_stage(
            db, lesson_id, stage, NoSpaceError.code, NO_SPACE_MESSAGE.format(stage=stage)
        )
        return
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    for next_stage in status.finish_stage(db, lesson_id, stage, outcome):
        enqueue(lesson_id, next_stage)


NO_SPACE_MESSAGE = (
    "The server ran out of disk space while processing this recording at the {stage} step. "
    "Nothing was lost; your administrator needs to free space, then it can be tried again."
)


TRANSIENT_MESSAGES = {
    "storage_unavailable": "The media store could not be reached for a long time while "
    "processing this recording, so processing stopped at the {stage} step. Try again later.",
    "database_unavailable": "The database could not be reached for a long time while "
    "processing this recording, so processing stopped at the {stage} step. Try again later.",
}


def fail_transient(settings: Settings, lesson_id: str, stage: str, exc: Exception) -> None:
    """Retries ran out on a storage or database outage: fail with the reason, not as a bug.
    (If the database itself is still down this raises too, and the sweep finishes the job.)"""
    code = getattr(exc, "code", None)
    if code not in TRANSIENT_MESSAGES:
        code = "database_unavailable"
    log.warning("lesson %s: stage %s gave up after retries: %s", lesson_id, stage, exc)
    status.fail_stage(
        settings.database_url, lesson_id, stage, code, TRANSIENT_MESSAGES[code].format(stage=stage)
    )


def fail_unexpectedly(settings: Settings, lesson_id: str, stage: str) -> None:
    """A bug, not bad input: log it with the traceback, show the teacher a calm message."""
    log.exception("lesson %s: stage %s crashed", lesson_id, stage)
    status.fail_stage(
        settings.database_url,
        lesson_id,
        stage,
        "internal_error",
        INTERNAL_ERROR_MESSAGE.format(lesson_id=lesson_id),
    )
