"""Rendering a clip on a worker: cut the lesson media, shift the captions, record the outcome.

`clipcoach.clip.render` takes a clip id, like every task: it re-reads the clip row, claims it
(queued -> rendering), renders `pipeline.clip.render_clip` over the lesson's normalised media and
`pipeline.captions.clip_transcript` over its transcript, stores the MP4 and the WebVTT under the
lesson's prefix, and marks the clip ready. If the clip's range changed while it rendered, the
result is thrown away instead of being recorded against the wrong range. Safe to redeliver; a
storage or database outage is retried with the stage tasks' backoff (`workers.tasks.RETRY`).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from celery import Task
from sqlalchemy.orm import Session

from models.blanks import lesson_blanks
from models.coaching import Clip, RenderStatus, clip_captions_key, clip_media_key
from models.consent import Rendition, rendition_for
from models.db import session_scope, utcnow
from models.lesson import Lesson, lesson_key
from models.pupilnames import lesson_names
from models.queue import RENDER_CLIP
from models.settings import Settings, get_settings
from models.storage import Storage, shared_storage
from pipeline.errors import PipelineError
from workers.app import app
from workers.tasks import RETRY, TRANSIENT

if TYPE_CHECKING:
    from pipeline.redact import Range

log = logging.getLogger(__name__)

EMPTY_VTT = "WEBVTT\n\n"


@dataclass(frozen=True)
class ClipJob:
    clip_id: str
    lesson_id: str
    media_key: str
    start: float
    end: float
    rendition: Rendition
    blanks: tuple[tuple[float, float], ...] = ()
    """The lesson's blanked ranges when the render began (lesson time)."""
    has_audio: bool = True
    pupil_names: tuple[str, ...] = ()
    """The class-list names that applied to the lesson when the render began (silenced)."""


def _storage() -> Storage:
    return shared_storage(get_settings().storage_url)


CLIP_TRANSIENT_MESSAGES = {
    "storage_unavailable": "The media store could not be reached for a long time while making "
    "this clip. Try again later.",
    "database_unavailable": "The database could not be reached for a long time while making "
    "this clip. Try again later.",
}


@app.task(name=RENDER_CLIP, bind=True, **RETRY)
def render_clip_task(self: Task, clip_id: str) -> None:
    """Render one clip's MP4 and captions. A storage or database outage is tried again with the
    stage tasks' backoff (the clip reads as still being made meanwhile: a new try claims it
    again) and fails the clip with the reason only when the tries run out."""
    settings = get_settings()
    try:
        render(settings, _storage(), clip_id)
    except TRANSIENT as exc:
        if self.request.retries < (self.max_retries or 0):
            raise  # autoretry_for sends it again after the backoff
        code = getattr(exc, "code", None)
        code = code if code in CLIP_TRANSIENT_MESSAGES else "database_unavailable"
        log.warning("clip %s: render gave up after retries: %s", clip_id, exc)
        _finish_failed(settings.database_url, clip_id, code, CLIP_TRANSIENT_MESSAGES[code])
    except Exception:
        log.exception("clip %s: render crashed", clip_id)
        _finish_failed(
            settings.database_url,
            clip_id,
            "internal_error",
            "Something went wrong on our side while making this clip; try again later.",
        )


def _claim(db_url: str, clip_id: str) -> ClipJob | None:
    with session_scope(db_url) as session:
        clip = session.get(Clip, clip_id)
        if clip is None or clip.render_status == RenderStatus.ready:
            return None
        lesson = session.get(Lesson, clip.lesson_id)
        if lesson is None or not lesson.media_key:
            clip.render_status = RenderStatus.failed
            clip.render_error_code = "not_ready"
            clip.render_error_message = "The lesson has no playable recording yet."
            return None
        clip.render_status = RenderStatus.rendering
        rendition = rendition_for(lesson.consent, has_video=lesson.has_video)
        blanks = tuple(lesson_blanks(session, lesson.id))
        return ClipJob(
            clip.id, lesson.id, lesson.media_key, clip.start, clip.end, rendition, blanks,
            lesson.has_audio is not False, _names_now(session, lesson),
        )  # fmt: skip


def _names_now(session: Session, lesson: Lesson) -> tuple[str, ...]:
    return tuple(sorted(lesson_names(session, lesson)))


def _finish_failed(db_url: str, clip_id: str, code: str, message: str) -> None:
    with session_scope(db_url) as session:
        clip = session.get(Clip, clip_id)
        if clip is not None:
            clip.render_status = RenderStatus.failed
            clip.render_error_code, clip.render_error_message = code, message


def render(settings: Settings, storage: Storage, clip_id: str) -> None:
    """Render `clip_id` if it still needs it; the clip row records success or failure."""
    db = settings.database_url
    job = _claim(db, clip_id)
    if job is None:
        return
    settings.scratch.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"clip-{clip_id}-", dir=settings.scratch))
    media_key = clip_media_key(job.lesson_id, job.clip_id, job.start, job.end, job.rendition)
    captions_key = clip_captions_key(media_key)
    try:
        from pipeline.clip import ClipOptions, render_clip
        from pipeline.redact import clip_ranges

        blanked = clip_ranges(job.blanks, job.start, job.end)
        names = _name_silences(storage, job)
        # shared as rendered: the copy may start at the IDR before the clip, hidden by the MP4
        # edit list (no re-encoded head); the filters below re-encode and want exact frames
        as_rendered = job.rendition == Rendition.plain and not blanked and not names
        source = storage.local_path(job.media_key) or _clip_window(storage, job, workdir)
        dst = workdir / "clip.mp4"
        options = ClipOptions(edit_list=as_rendered)
        result = render_clip(source, dst, job.start, job.end, options)
        dst = _blanked(dst, job, blanked, video=result.frames > 0)
        dst = _names_silenced(dst, names)
        dst = _as_consent_requires(dst, job.rendition)
        vtt = workdir / "clip.vtt"
        vtt.write_text(_captions(storage, job), encoding="utf-8")
        storage.put_file(media_key, dst, "video/mp4")
        storage.put_file(captions_key, vtt, "text/vtt")
    except PipelineError as exc:
        log.warning("clip %s: render failed: %s %s\n%s", clip_id, exc.code, exc, exc.detail)
        _finish_failed(db, clip_id, exc.code, exc.message)
        return
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    with session_scope(db) as session:
        clip = session.get(Clip, clip_id)
        lesson = session.get(Lesson, job.lesson_id)
        now_wanted = lesson and rendition_for(lesson.consent, has_video=lesson.has_video)
        blanks_now = tuple(lesson_blanks(session, job.lesson_id))
        names_now = _names_now(session, lesson) if lesson is not None else ()
        if clip is None or (clip.start, clip.end, now_wanted, blanks_now, names_now) != (
            job.start,
            job.end,
            job.rendition,
            job.blanks,
            job.pupil_names,
        ):
            # deleted, re-ranged, consent, blanked moments or class list changed meanwhile: it
            # answers nothing
            stale = True
        else:
            stale = False
            clip.media_key, clip.captions_key = media_key, captions_key
            clip.render_status = RenderStatus.ready
            clip.rendered_at = utcnow()
            clip.render_error_code = clip.render_error_message = None
    if stale:
        storage.delete(media_key)
        storage.delete(captions_key)


def _clip_window(storage: Storage, job: ClipJob, workdir: Path) -> Path:
    """The bytes of the stored lesson the clip needs, by range (pipeline.window), not all of it:
    a 60 s clip of an hour-long lesson fetches about 3 % of the file."""
    from pipeline.window import fetch_window

    key = job.media_key
    window = fetch_window(
        lambda first, last: storage.open_range(key, first, last),
        storage.size(key),
        workdir / PurePosixPath(key).name,
        job.start,
        job.end,
    )
    log.info(
        "clip %s: fetched %d of %d bytes of the lesson", job.clip_id, window.fetched, window.size
    )
    return window.path


def _blanked(plain: Path, job: ClipJob, ranges: list[Range], *, video: bool) -> Path:
    """The rendered clip with the blanked moments it covers (`ranges`, clip time) black and
    silent (models.blanks)."""
    from pipeline.redact import blank_ranges

    if not ranges:
        return plain
    blanked = plain.with_name("blanked.mp4")
    return blank_ranges(plain, blanked, ranges, video=video, audio=job.has_audio)


def _name_silences(storage: Storage, job: ClipJob) -> list[Range]:
    """Where, in clip time, a pupil's name on the class lists is said (the rendered clip is the
    copy that is shared; the lesson itself stays as recorded)."""
    key = lesson_key(job.lesson_id, "transcript.json")
    if not job.pupil_names or not job.has_audio or not storage.exists(key):
        return []
    from pipeline.pupilnames import name_list
    from pipeline.redact import name_silences
    from pipeline.transcript import Transcript

    transcript = Transcript.from_dict(json.loads(storage.get_bytes(key)))
    names = name_list(job.pupil_names)
    return name_silences(transcript, job.blanks, names, job.start, job.end)


def _names_silenced(plain: Path, ranges: list[Range]) -> Path:
    """The rendered clip with its sound silent inside `ranges` (`_name_silences`)."""
    if not ranges:
        return plain
    from pipeline.redact import silence_ranges

    return silence_ranges(plain, plain.with_name("names-silenced.mp4"), ranges)


def _as_consent_requires(plain: Path, rendition: Rendition) -> Path:
    """The rendered clip made as the lesson's consent requires: faces blurred, or sound only."""
    if rendition == Rendition.blurred:
        from pipeline.blur import blur_faces

        return blur_faces(plain, plain.with_name("blurred.mp4")).path
    if rendition == Rendition.audio:
        from pipeline.redact import drop_picture

        return drop_picture(plain, plain.with_name("audio.mp4"))
    return plain


def _captions(storage: Storage, job: ClipJob) -> str:
    """The lesson's transcript cut to the clip and timed from its start, as WebVTT."""
    key = lesson_key(job.lesson_id, "transcript.json")
    if not storage.exists(key):
        return EMPTY_VTT
    from pipeline.captions import to_vtt
    from pipeline.redact import shown_clip_transcript
    from pipeline.transcript import Transcript

    transcript = Transcript.from_dict(json.loads(storage.get_bytes(key)))
    return to_vtt(shown_clip_transcript(transcript, job.blanks, job.start, job.end))
