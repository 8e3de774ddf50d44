"""One pipeline stage in a process of its own, reporting its peak memory and time as JSON.

`python -m benchmarks.stage NAME WORKDIR` runs `pipeline.lesson.run_stage(NAME, WORKDIR)` the way
a worker does (settings -> options, the model loaded in this process) and prints
`{"stage", "seconds", "self_kb", "children_kb"}`: the peak resident memory of this Python process
(model included) and of the largest tool it ran (ffmpeg, ffprobe). A worker runs both at once, so
their sum bounds the worker's peak for that stage from above.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> None:
    from models.settings import get_settings
    from pipeline.lesson import run_stage
    from workers.options import lesson_options, model_spec

    name, workdir = argv[0], Path(argv[1])
    settings = get_settings()

    def model():  # type: ignore[no-untyped-def]
        from pipeline.transcribe import load_model

        return load_model(model_spec(settings))

    started = time.perf_counter()
    outcome = run_stage(name, workdir, lesson_options(settings), model=model)
    seconds = time.perf_counter() - started
    report = {
        "stage": name,
        "seconds": seconds,
        "self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "children_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        "skipped": outcome.skipped,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1:])
