"""The task queue as a place: broker settings and sending a task by name.

The web process sends tasks by name through `send_task` and never imports worker code (nor
OpenCV or faster-whisper). Embedded default: a filesystem broker in data_dir (no server to run).
Scale-out: Redis. Either way tasks ack late, are re-queued if a worker dies mid-task, and are
prefetched one at a time, because a stage can run for many minutes.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from celery import Celery

from models.settings import Settings, get_settings

TASK_PREFIX = "clipcoach."
MEDIA_QUEUE = "media"
TRANSCRIBE_QUEUE = "transcribe"
CLIPS_QUEUE = "clips"
"""Clip renders, consumed by a worker of their own so an ECT's clip never waits behind a lesson."""
MAINTENANCE_QUEUE = "maintenance"
"""The sweep's and the retention task's queue, consumed by whichever worker runs the beat
scheduler (`--beat`)."""
PROCESS_LESSON = f"{TASK_PREFIX}lesson.process"
RENDER_CLIP = f"{TASK_PREFIX}clip.render"
RETRANSCRIBE_LESSON = f"{TASK_PREFIX}lesson.retranscribe"
BLANK_LESSON = f"{TASK_PREFIX}lesson.blank"
"""Writes a lesson's pending blanked moments into its stored files (workers/blank_tasks.py)."""
SWEEP = f"{TASK_PREFIX}sweep"
RETENTION = f"{TASK_PREFIX}retention"
"""Deletes lessons past the school's retention date (models.retention), on the beat."""
EMAIL_DIGESTS = f"{TASK_PREFIX}notifications.email"
"""Emails users how many new notifications they have (models.notifications), on the beat."""

TASK_ROUTES = {
    f"{TASK_PREFIX}stage.transcribe": {"queue": TRANSCRIBE_QUEUE},
    SWEEP: {"queue": MAINTENANCE_QUEUE},
    RETENTION: {"queue": MAINTENANCE_QUEUE},
    EMAIL_DIGESTS: {"queue": MAINTENANCE_QUEUE},
    RENDER_CLIP: {"queue": CLIPS_QUEUE},
    f"{TASK_PREFIX}*": {"queue": MEDIA_QUEUE},  # probe, normalise, thumbnails, scenes
}
"""Routing by task name: the senders (API, stage tasks) never need to know where a task runs."""
KEY_PREFIX_OPTION = "key_prefix"
"""`redis://host:6379/0?key_prefix=school-a:` keeps deployments (or test runs) sharing one Redis
apart: kombu prefixes every key it writes."""


def is_redis_url(url: str) -> bool:
    return url.startswith(("redis://", "rediss://"))


def split_key_prefix(url: str) -> tuple[str, str]:
    """The broker URL without our own `key_prefix` option, and that prefix ('' if none)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = "".join(v for k, v in query if k == KEY_PREFIX_OPTION)
    rest = urlencode([(k, v) for k, v in query if k != KEY_PREFIX_OPTION])
    return urlunsplit(parts._replace(query=rest)), prefix


def celery_config(settings: Settings) -> dict[str, Any]:
    """Celery settings for `settings.broker_url`; the broker's scheme is read in this module
    (`is_redis_url`, which api.ratelimit also asks to share the Redis)."""
    config: dict[str, Any] = {
        "broker_url": settings.broker_url,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_ignore_result": True,
        "result_backend": None,
        "task_default_queue": MEDIA_QUEUE,
        "task_routes": TASK_ROUTES,
        "broker_connection_retry_on_startup": True,
        # A worker that loses the broker cancels what it runs: its unacked messages go back to
        # the queue (Redis restores them), or the sweep requeues them if the broker lost them.
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        # A stage past its own timeout (the pipeline enforces it) is killed as a last resort.
        "task_time_limit": int(settings.stage_timeout_seconds) + 300,
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
    elif is_redis_url(settings.broker_url):
        url, prefix = split_key_prefix(settings.broker_url)
        config["broker_url"] = url
        config["broker_transport_options"] = {
            # A stage may run for hours; Redis must not hand its unacked message to another
            # worker before the stage's hard time limit has passed.
            "visibility_timeout": int(settings.stage_timeout_seconds) + 600,
            "socket_connect_timeout": 5,
            "socket_timeout": 30,
            "retry_on_timeout": True,
            "health_check_interval": 25,
            **({"global_keyprefix": prefix} if prefix else {}),
        }
    return config


def make_celery(settings: Settings | None = None) -> Celery:
    app = Celery("clipcoach")
    app.conf.update(celery_config(settings or get_settings()))
    return app


@functools.cache
def _client(_broker_url: str, _broker_folder: str) -> Celery:
    """One client per broker; a filesystem broker is also told apart by its folder (the arguments
    are the cache key: the client itself is built from the current settings)."""
    return make_celery(get_settings())


class TaskQueue(Protocol):
    """Where the API (and the batch launcher) send work: injected, so a test or an embedding can
    run tasks in-process (`InProcessQueue`) while a deployment uses Celery (`CeleryQueue`)."""

    def send(self, name: str, *args: Any, queue: str | None = None) -> None:
        """Enqueue the task called `name` (routed by TASK_ROUTES unless `queue` is given);
        raises if the queue cannot take it, so the caller can undo what it committed."""


class CeleryQueue:
    """Tasks through the broker of the current settings (`broker_url`); what runs them is the
    workers' business."""

    def send(self, name: str, *args: Any, queue: str | None = None) -> None:
        settings = get_settings()
        client = _client(settings.broker_url, str(settings.broker_folder))
        client.send_task(name, args=list(args), queue=queue)


@dataclass
class InProcessQueue:
    """Runs each task by name with a handler of this process, in a thread of its own (as httpx
    ships `MockTransport`): tests, and tools that embed clipcoach without a broker. Tasks with
    no handler are only recorded in `sent`; a handler's exception is kept in `errors`."""

    handlers: dict[str, Callable[..., None]] = field(default_factory=dict)
    sent: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)

    def send(self, name: str, *args: Any, queue: str | None = None) -> None:  # noqa: ARG002 - one process has no queues to route between
        self.sent.append((name, args))
        handler = self.handlers.get(name)
        if handler is None:
            return

        def run() -> None:
            try:
                handler(*args)
            except BaseException as exc:  # noqa: BLE001 - kept for the caller to inspect
                self.errors.append(exc)

        thread = threading.Thread(target=run, name=f"task {name}", daemon=True)
        self.threads.append(thread)
        thread.start()

    def join(self, timeout: float = 120) -> None:
        """Wait for the tasks started so far."""
        for thread in self.threads:
            thread.join(timeout)


def send_task(name: str, *args: Any, queue: str | None = None) -> None:
    """Send through Celery: for the CLI and worker code, which always talk to the broker."""
    CeleryQueue().send(name, *args, queue=queue)
