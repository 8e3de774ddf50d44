"""The command lines that start Celery worker processes: one rule for `clipcoach worker`, the
workers `clipcoach serve` starts beside the web app, and those `clipcoach batch` starts.

It lives apart from the CLI so the batch launcher can build the same commands without importing
the CLI (which imports the batch).
"""

from __future__ import annotations

import sys
from pathlib import Path

from models.queue import CLIPS_QUEUE, MAINTENANCE_QUEUE
from models.settings import Settings, get_settings


def worker_command(
    queues: str,
    concurrency: int,
    loglevel: str,
    *,
    beat: bool = False,
    schedule: Path | None = None,
) -> list[str]:
    """The Celery worker command; with `beat`, it also schedules the sweep and consumes it,
    keeping the beat schedule in `schedule` (default: the data folder's `celerybeat-schedule`)."""
    extra: list[str] = []
    if beat:
        if MAINTENANCE_QUEUE not in queues.split(","):
            queues = f"{queues},{MAINTENANCE_QUEUE}"
        if schedule is None:
            schedule = get_settings().data_dir / "celerybeat-schedule"
        schedule.parent.mkdir(parents=True, exist_ok=True)
        extra = ["--beat", "--schedule", str(schedule)]
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.app",
        "worker",
        "--queues",
        queues,
        "--concurrency",
        str(concurrency),
        "--pool",
        "prefork",
        "--loglevel",
        loglevel,
        "--without-gossip",
        "--without-mingle",
        *extra,
    ]


def embedded_worker_commands(settings: Settings, loglevel: str = "info") -> list[list[str]]:
    """The workers `serve` starts on one machine: the lesson pool, clip renders in a process of
    their own (an ECT opening a shared clip never waits behind a long lesson), and the sweep with
    its scheduler in a third (a stalled stage is requeued even while every pool process is busy
    with a long transcription)."""
    return [
        worker_command("media,transcribe", settings.worker_concurrency, loglevel),
        worker_command(CLIPS_QUEUE, 1, loglevel),
        worker_command(MAINTENANCE_QUEUE, 1, loglevel, beat=True),
    ]
