"""Celery tasks: thin, named, taking ids, idempotent. The work itself is in workers.runner.

Each stage of pipeline.lesson.STAGES gets a task named `clipcoach.stage.<name>`, routed to its
queue (`media` or `transcribe`). A finished stage enqueues the stages it unblocks by name, so
workers on other hosts need nothing but the name. The API only ever sends
`clipcoach.lesson.process` (models.queue.PROCESS_LESSON) with a lesson id.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from typing import Any

from celery import Task
from sqlalchemy.exc import OperationalError

from models.db import session_scope
from models.mail import SmtpMailer
from models.notifications import digest_options, email_digests
from models.queue import (
    BLANK_LESSON,
    EMAIL_DIGESTS,
    PROCESS_LESSON,
    RETENTION,
    SWEEP,
    TASK_PREFIX,
)
from models.retention import enforce, school_policy
from models.settings import get_settings
from models.storage import Storage, StorageUnavailableError, shared_storage
from models.upload import remove_abandoned
from pipeline.lesson import STAGES
from workers import status, sweep
from workers.app import app
from workers.runner import execute_stage, fail_transient, fail_unexpectedly

log = logging.getLogger(__name__)


def stage_task_name(stage: str) -> str:
    return f"{TASK_PREFIX}stage.{stage}"


def _storage() -> Storage:
    return shared_storage(get_settings().storage_url)


def enqueue_stage(lesson_id: str, stage: str) -> None:
    app.send_task(stage_task_name(stage), args=[lesson_id], queue=STAGES[stage].queue)


TRANSIENT = (StorageUnavailableError, OperationalError)
"""Storage or database unavailable: worth retrying, the same input will likely work later."""
RETRY: dict[str, Any] = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": 5,  # 5, 10, 20, 40 ... seconds
    "retry_backoff_max": 300,  # below workers.sweep.STALE_RUNNING, so the sweep waits for it
    "retry_jitter": True,
    "max_retries": 8,  # about 20 minutes of trying before the lesson fails with the reason
}


@app.task(name=PROCESS_LESSON, **RETRY)
def process_lesson(lesson_id: str) -> None:
    """Start (or restart) a lesson's processing from its first stage."""
    for stage in status.start_lesson(get_settings().database_url, lesson_id):
        enqueue_stage(lesson_id, stage)


def _make_stage_task(stage: str) -> Any:
    @app.task(name=stage_task_name(stage), bind=True, **RETRY)
    def run(self: Task, lesson_id: str) -> None:
        try:
            execute_stage(get_settings(), _storage(), lesson_id, stage, enqueue_stage)
        except TRANSIENT as exc:
            if self.request.retries < (self.max_retries or 0):
                raise  # autoretry_for sends it again after the backoff
            fail_transient(get_settings(), lesson_id, stage, exc)
        except Exception:  # noqa: BLE001 - a bug: logged with its traceback, the lesson failed calmly
            fail_unexpectedly(get_settings(), lesson_id, stage)

    run.__doc__ = f"Run the {stage} stage of one lesson."
    return run


stage_tasks = {stage: _make_stage_task(stage) for stage in STAGES}


def _queue_depth(queue: str) -> int:
    """Messages waiting in `queue` on the broker (0 if the queue does not exist yet)."""
    with app.connection_for_read() as connection:
        try:
            return int(connection.default_channel.queue_declare(queue, passive=True).message_count)
        except connection.channel_errors:
            return 0


@app.task(name=SWEEP, ignore_result=True)
def sweep_stale() -> None:
    """Requeue or fail lessons stuck in a stage (see workers.sweep); run every minute by beat."""
    settings = get_settings()
    report = sweep.sweep(
        settings.database_url,
        enqueue_stage,
        _queue_depth,
        send_blank=lambda lesson_id: app.send_task(BLANK_LESSON, args=[lesson_id]),
    )
    remove_abandoned(
        settings.database_url,
        settings.data_dir,
        timedelta(hours=settings.upload_abandon_hours),
        storage=shared_storage(settings.storage_url),
    )
    if (
        report.requeued
        or report.resent
        or report.failed
        or report.unblocked
        or report.restarted
        or report.blanks_resent
    ):
        log.info(
            "sweep: requeued %s, resent %s, unblocked %s, restarted %s, failed %s, blanks %s",
            report.requeued,
            report.resent,
            report.unblocked,
            report.restarted,
            report.failed,
            report.blanks_resent,
        )


@app.task(name=RETENTION, ignore_result=True)
def delete_expired() -> None:
    """Delete lessons, transcripts and shares past the school's dates (models.retention); run
    by beat."""
    done = enforce(get_settings().database_url, _storage(), school_policy())
    for what, ids in (
        ("lessons", done.lessons),
        ("transcripts of lessons", done.transcripts),
        ("shares", done.shares),
    ):
        if ids:
            log.info("retention: deleted %d %s past their date: %s", len(ids), what, ids)


@app.task(name=EMAIL_DIGESTS, ignore_result=True)
def send_email_digests() -> None:
    """Email users how many new notifications they have (only that and a link); run by beat.
    Nothing happens unless `email_notifications` is on. An SMTP failure is logged and the rest
    waits for the next run (each user's digest is recorded as it is sent)."""
    settings = get_settings()
    if not settings.email_notifications:
        return
    with session_scope(settings.database_url) as session:
        try:
            sent = email_digests(session, SmtpMailer(settings), digest_options(settings))
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("notification emails: the SMTP server failed: %s", exc)
            return
    if sent:
        log.info("notification emails: sent %d", sent)
