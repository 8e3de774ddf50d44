"""Running a benchmark's child process and reading its wall time, CPU time and peak memory.

The command is started by a small go-between (`python -S -m benchmarks.wait4`): Linux carries the
resident peak of the process that forks across `exec` into the child's ru_maxrss, so a command
started straight from the (model-holding) benchmark process would never report less than that
process's own size. The go-between is what forks the command, so the floor is its own few
megabytes.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PYTHON = sys.executable


@dataclass
class Measured:
    seconds: float
    peak_bytes: int
    """Largest resident set of the child or anything it waited for (wait4's ru_maxrss)."""
    returncode: int
    output: str
    cpu_seconds: float = 0.0
    """User plus system time of the child and everything it waited for."""

    def check(self, what: str) -> Measured:
        if self.returncode != 0:
            raise RuntimeError(f"{what} failed ({self.returncode}):\n{self.output[-3000:]}")
        return self


def run_measured(
    cmd: Sequence[str | Path],
    *,
    env: dict[str, str] | None = None,
    timeout: float = 4 * 3600,
) -> Measured:
    """Run `cmd`, returning wall time, peak memory, exit code and its (merged) output."""
    with tempfile.TemporaryDirectory() as tmp:
        log_path, result = Path(tmp) / "log", Path(tmp) / "result.json"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [PYTHON, "-S", "-m", "benchmarks.wait4", str(result), *map(str, cmd)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # one process group: a timeout kills the whole tree
            )
            try:
                proc.wait(timeout=timeout)
            except BaseException:  # timed out or interrupted: leave nothing running
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise
        output = log_path.read_text(errors="replace")
        if not result.exists():
            return Measured(0.0, 0, proc.returncode or -1, output)
        report = json.loads(result.read_text())
    return Measured(
        report["seconds"], report["maxrss_kb"] * 1024, report["code"], output, report["cpu"]
    )
