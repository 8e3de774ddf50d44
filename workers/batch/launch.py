"""`clipcoach batch --workers N`: Celery workers started (and stopped) by the batch, on the same
settings, and gone when the batch goes, however it ends.

The worker started by a killed run shuts down warmly (it is told to by the kernel,
`PR_SET_PDEATHSIG`), returning what it had reserved to the queue.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from pathlib import Path

from models.queue import MAINTENANCE_QUEUE
from workers.children import Children
from workers.worker_command import worker_command


def _die_with_parent() -> None:
    """In the worker child: ask the kernel for SIGTERM when the batch process dies, however it
    dies (even SIGKILL), so a killed batch never leaves workers behind. Celery takes SIGTERM as a
    warm shutdown: the running stage finishes and reserved messages go back to the queue."""
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)


def worker_commands(concurrency: int, schedule: Path, loglevel: str = "info") -> list[list[str]]:
    """`clipcoach serve`'s lesson pool and sweep worker (so queues and the sweep stay in step
    with it: the sweep in a process of its own, never behind a long transcription), with host
    names of their own and a beat schedule file of its own: a `clipcoach serve` on the same data
    folder may be running beside them."""
    pool = worker_command("media,transcribe", concurrency, loglevel)
    sweeper = worker_command(MAINTENANCE_QUEUE, 1, loglevel, beat=True, schedule=schedule)
    return [
        [*pool, "--hostname", f"batch-{os.getpid()}@%h"],
        [*sweeper, "--hostname", f"batch-sweep-{os.getpid()}@%h"],
    ]


class LocalWorkers:
    """Celery workers for the length of a batch: a pool of `count` processes, and the sweep with
    its scheduler (beat) in one of its own.

    Their log goes to a file (the terminal belongs to the progress display). The sweep requeues a
    stage whose worker or message was lost, e.g. by a killed earlier run. Stopped with SIGTERM
    (warm: running stages finish) and, past `stop_timeout`, killed with all they started.
    """

    def __init__(self, count: int, log_path: Path, *, stop_timeout: float = 60.0) -> None:
        self.count = count
        self.log_path = log_path
        self.stop_timeout = stop_timeout
        self.children = Children()
        self._schedule = log_path.parent / f".batch-beat-{os.getpid()}"

    def __enter__(self) -> LocalWorkers:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log_file:
            for command in worker_commands(self.count, self._schedule):
                self.children.start(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    preexec_fn=_die_with_parent if sys.platform == "linux" else None,
                )
        return self

    def problem(self) -> str | None:
        """Why the workers can no longer process anything, or None while they run."""
        for proc in self.children.procs:
            if proc.poll() is not None:
                return (
                    f"the local worker stopped (exit code {proc.returncode}); see {self.log_path}"
                )
        return None

    def __exit__(self, *exc: object) -> None:
        try:
            self.children.stop(self.stop_timeout)
        finally:
            for leftover in self._schedule.parent.glob(f"{self._schedule.name}*"):
                leftover.unlink(missing_ok=True)
