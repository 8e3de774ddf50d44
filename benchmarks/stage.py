"""One pipeline stage in a process of its own, reporting its peak memory and time as JSON.

`python -m benchmarks.stage NAME WORKDIR` runs `pipeline.lesson.run_stage(NAME, WORKDIR)` the way
a worker does (settings -> options, the model loaded in this process) and prints
`{"stage", "seconds", "self_kb", "children_kb"}`: the peak resident memory of this Python process
(model included) and of the largest tool it ran (ffmpeg, ffprobe). A worker runs both at once, so
their sum bounds the worker's peak for that stage from above.

The tools' peaks are read from /proc (VmHWM, every 20 ms) while they run, because getrusage's
figure for children is useless here: Linux carries the forking process's peak across `exec`, so
every tool started by this Python would report at least this Python's size. A tool too short to
be sampled falls back to that upper bound.
"""

from __future__ import annotations

import contextlib
import json
import resource
import sys
import threading
import time
from pathlib import Path


class ToolPeaks:
    """Samples the resident peak (VmHWM) of this process's children while a stage runs."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _children(self) -> set[int]:
        kids: set[int] = set()
        for task in Path("/proc/self/task").iterdir():
            with contextlib.suppress(OSError):
                kids |= {int(k) for k in (task / "children").read_text().split()}
        return kids

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for pid in self._children():
                with contextlib.suppress(OSError, ValueError):
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            self.peak_kb = max(self.peak_kb, int(line.split()[1]))

    def __enter__(self) -> ToolPeaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main(argv: list[str]) -> None:
    from models.settings import get_settings
    from pipeline.lesson import run_stage
    from workers.options import lesson_options, model_spec

    name, workdir = argv[0], Path(argv[1])
    settings = get_settings()

    from pipeline.transcribe import whisper_transcriber

    started = time.perf_counter()
    with ToolPeaks() as tools:
        outcome = run_stage(
            name,
            workdir,
            lesson_options(settings),
            transcriber=whisper_transcriber(model_spec(settings)),
        )
    seconds = time.perf_counter() - started
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    report = {
        "stage": name,
        "seconds": seconds,
        "self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "children_kb": tools.peak_kb or children_kb,
        "children_sampled": bool(tools.peak_kb),
        "skipped": outcome.skipped,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1:])
