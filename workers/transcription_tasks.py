"""Transcribing a processed lesson again: only the stages that depend on the settings run.

`clipcoach.lesson.retranscribe` takes a lesson id, like every task. The API has already kept the
earlier transcript as a version and stored the new settings in `Lesson.options` (or switched
transcription off); this task puts the audio, transcribe and segment stages back to pending and
enqueues the ones that are ready, by name. Probe, normalise, thumbnails and scenes are not run
again. Safe to redeliver: a second delivery finds those stages unfinished and does nothing.
"""

from __future__ import annotations

import logging

from models.queue import RETRANSCRIBE_LESSON
from models.settings import get_settings
from pipeline.lesson import TRANSCRIPTION_STAGES
from workers import status
from workers.app import app
from workers.runner import Enqueue
from workers.tasks import RETRY, enqueue_stage

log = logging.getLogger(__name__)

RETRANSCRIBED_STAGES = TRANSCRIPTION_STAGES


def retranscribe(db_url: str, lesson_id: str, enqueue: Enqueue) -> list[str]:
    """Reset the transcription stages of `lesson_id` and enqueue those ready; return them."""
    claimed = status.restart_stages(db_url, lesson_id, RETRANSCRIBED_STAGES)
    for stage in claimed:
        enqueue(lesson_id, stage)
    log.info("lesson %s: transcribing again (%s)", lesson_id, ", ".join(claimed) or "nothing")
    return claimed


@app.task(name=RETRANSCRIBE_LESSON, **RETRY)
def retranscribe_lesson(lesson_id: str) -> None:
    """Transcribe a processed lesson again with its current options."""
    retranscribe(get_settings().database_url, lesson_id, enqueue_stage)
