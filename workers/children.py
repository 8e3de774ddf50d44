"""Worker processes started by `clipcoach serve` and `clipcoach batch`, stopped within a bound.

Each child starts in a session (and process group) of its own, so a signal sent to the parent's
group (Ctrl+C in a terminal, systemd stopping the service) reaches only the parent, which then
signals each child once. A Celery worker that got SIGTERM twice, once from the group and once from
its parent, or whose pool and embedded beat got it directly, was seen to hang after `beat:
Shutting down...`, ignoring later SIGTERMs. Whatever a child does, once the bound has passed its
whole group (pool processes, beat, ffmpeg) gets SIGKILL; so does anything of the group still
alive after the child itself exited.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from typing import Any


class Children:
    """Process trees started with `start`, stopped together with `terminate` then `stop`."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.terminated_at: float | None = None

    def start(self, command: Sequence[str], **popen: Any) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(command, start_new_session=True, **popen)
        self.procs.append(proc)
        return proc

    def terminate(self) -> None:
        """Ask each child once for a warm shutdown (SIGTERM to the child alone, never its group:
        Celery's main process stops its own pool and beat). Safe to call from a signal handler."""
        if self.terminated_at is not None:
            return
        self.terminated_at = time.monotonic()
        for proc in self.procs:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGTERM)

    def stop(self, timeout: float) -> None:
        """Terminate (if not yet) and wait until `timeout` seconds after terminating began; then
        SIGKILL every child's process group, whether the child is still there or not."""
        self.terminate()
        deadline = (self.terminated_at or time.monotonic()) + timeout
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # the group id is the child's pid (setsid)
        for proc in self.procs:
            proc.wait()

    def running(self) -> list[subprocess.Popen[bytes]]:
        return [proc for proc in self.procs if proc.poll() is None]
