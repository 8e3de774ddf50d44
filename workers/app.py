"""The Celery application the worker processes run (broker settings live in models.queue)."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_process_init

from models.db import reset_engines
from models.queue import make_celery

app = make_celery()
app.conf.include = ["workers.tasks"]


@worker_process_init.connect
def _fresh_connections(**_: Any) -> None:
    """A forked pool process must not share the parent's database sockets."""
    reset_engines()
