"""The Celery application, configured from settings.

Embedded default: a filesystem broker in data_dir (no server to run). Scale-out: Redis. Either
way tasks ack late, are re-queued if a worker dies mid-task, and prefetch one at a time, because a
stage can run for minutes and must not sit behind another on a busy worker.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import worker_process_init

from models.db import reset_engines
from models.settings import Settings, get_settings

TASK_PREFIX = "clipcoach."
TRANSCRIBE_QUEUE = "transcribe"
MEDIA_QUEUE = "media"


def celery_config(settings: Settings) -> dict[str, Any]:
    """Celery settings for `settings.broker_url`; the only code that looks at the broker scheme."""
    config: dict[str, Any] = {
        "broker_url": settings.broker_url,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_ignore_result": True,
        "result_backend": None,
        "task_default_queue": MEDIA_QUEUE,
        "task_routes": {f"{TASK_PREFIX}stage.transcribe": {"queue": TRANSCRIBE_QUEUE}},
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "task_serializer": "json",
        "accept_content": ["json"],
    }
    if settings.broker_url.startswith("filesystem://"):
        folder = settings.broker_folder
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        config["broker_transport_options"] = {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
            "polling_interval": 0.2,
        }
    elif settings.broker_url.startswith(("redis://", "rediss://")):
        # A stage may run for an hour; Redis must not hand its unacked message to another worker.
        config["broker_transport_options"] = {
            "visibility_timeout": int(settings.stage_timeout_seconds) + 600,
        }
    return config


def make_celery(settings: Settings | None = None) -> Celery:
    app = Celery("clipcoach")
    app.conf.update(celery_config(settings or get_settings()))
    return app


app = make_celery()
app.autodiscover_tasks(["workers"], related_name="tasks", force=True)


@worker_process_init.connect
def _fresh_connections(**_: Any) -> None:
    """A forked pool process must not share the parent's database sockets."""
    reset_engines()
