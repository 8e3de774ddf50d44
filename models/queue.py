"""The task queue as a place: broker settings and sending a task by name.

The web process sends tasks by name through `send_task` and never imports worker code (nor
OpenCV or faster-whisper). Embedded default: a filesystem broker in data_dir (no server to run).
Scale-out: Redis. Either way tasks ack late, are re-queued if a worker dies mid-task, and are
prefetched one at a time, because a stage can run for many minutes.
"""

from __future__ import annotations

import functools
from typing import Any

from celery import Celery

from models.settings import Settings, get_settings

TASK_PREFIX = "clipcoach."
MEDIA_QUEUE = "media"
TRANSCRIBE_QUEUE = "transcribe"
PROCESS_LESSON = f"{TASK_PREFIX}lesson.process"
RENDER_CLIP = f"{TASK_PREFIX}clip.render"


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


@functools.cache
def _client(broker_url: str) -> Celery:
    return make_celery(get_settings())


def send_task(name: str, *args: Any, queue: str = MEDIA_QUEUE) -> None:
    """Enqueue the task called `name`; what runs it is the workers' business."""
    _client(get_settings().broker_url).send_task(name, args=list(args), queue=queue)
