"""The Celery application the worker processes run (broker settings live in models.queue)."""

from __future__ import annotations

import warnings
from typing import Any

from celery.exceptions import SecurityWarning
from celery.signals import worker_process_init

from models.db import reset_engines
from models.queue import EMAIL_DIGESTS, RETENTION, SWEEP, make_celery
from models.settings import get_settings

app = make_celery()
if app.conf.accept_content == ["json"]:
    # Celery warns whenever a worker runs as root because a worker accepting pickle would run code
    # from anyone who can write to the broker. Ours takes JSON only, so as root (a container, a
    # school's single server) the warning would only alarm whoever is setting up.
    warnings.filterwarnings("ignore", category=SecurityWarning)
app.conf.include = [
    "workers.tasks",
    "workers.clip_tasks",
    "workers.transcription_tasks",
    "workers.blank_tasks",
]
# Read only by the beat scheduler, which runs inside exactly one worker (`clipcoach worker
# --beat`: the `scheduler` service in compose, the worker `clipcoach serve` starts on one machine).
_interval = get_settings().sweep_interval_seconds
_retention_interval = get_settings().retention_interval_seconds
_email_interval = get_settings().email_interval_seconds
app.conf.beat_schedule = {
    "sweep-stale-lessons": {
        "task": SWEEP,
        "schedule": _interval,
        "options": {"expires": _interval},  # a backlog of sweeps is pointless
    },
    "delete-expired-lessons": {
        "task": RETENTION,
        "schedule": _retention_interval,
        "options": {"expires": _retention_interval},
    },
    "email-notification-digests": {  # does nothing unless email_notifications is on
        "task": EMAIL_DIGESTS,
        "schedule": _email_interval,
        "options": {"expires": _email_interval},
    },
}


@worker_process_init.connect
def _fresh_connections(**_: Any) -> None:
    """A forked pool process must not share the parent's database sockets."""
    reset_engines()
