"""The workers `serve` starts, and how they are stopped: within the bound, with all they started."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

from models.settings import Settings
from tests.services import process_tree, running
from workers.children import Children
from workers.worker_command import embedded_worker_commands

STUBBORN = """
import os, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)  # like a worker hung after `beat: Shutting down`
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
open(sys.argv[1], "w").close()
time.sleep(120)
"""


def _option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_serve_runs_the_sweep_in_a_worker_of_its_own(settings: Settings) -> None:
    """Point 13 of issue 21: the sweep never waits behind a long transcription in the pool."""
    commands = embedded_worker_commands(settings)
    by_queues = {_option(command, "--queues"): command for command in commands}
    assert set(by_queues) == {"media,transcribe", "clips", "maintenance"}
    sweeper = by_queues["maintenance"]
    assert "--beat" in sweeper
    assert _option(sweeper, "--concurrency") == "1"
    assert [command for command in commands if "--beat" in command] == [sweeper]


def test_stop_kills_the_whole_tree_of_a_child_that_ignores_sigterm(tmp_path: Path) -> None:
    children = Children()
    ready = tmp_path / "ready"
    proc = children.start([sys.executable, "-c", STUBBORN, str(ready)])
    deadline = time.monotonic() + 30
    while not ready.exists() or len(process_tree(proc.pid)) < 2:
        assert time.monotonic() < deadline, "the child did not start its grandchild"
        time.sleep(0.05)
    tree = process_tree(proc.pid)
    started = time.monotonic()
    children.stop(timeout=1.0)
    took = time.monotonic() - started
    assert proc.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 5
    while any(running(pid) for pid in tree) and time.monotonic() < deadline:
        time.sleep(0.05)  # the orphaned grandchild is reaped by init, not by us
    assert not any(running(pid) for pid in tree)
    assert took < 3.0


def test_a_child_that_stops_on_sigterm_is_not_kept_waiting(tmp_path: Path) -> None:
    children = Children()
    proc = children.start([sys.executable, "-c", "import time; time.sleep(120)"])
    started = time.monotonic()
    children.stop(timeout=30.0)
    assert proc.returncode == -signal.SIGTERM
    assert time.monotonic() - started < 10.0
