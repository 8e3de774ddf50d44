"""batch: `clipcoach batch` throughput with one and two worker processes, beside the plain tools
file after file."""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks import media
from benchmarks.measured import PYTHON, run_measured
from benchmarks.parts.peers import plain_tools
from benchmarks.suite import WORK, Suite, clean_env, lesson_file, minutes, say, table


def run(suite: Suite) -> None:
    cfg = suite.config
    total = cfg.batch_files * cfg.batch_minutes
    source = lesson_file(cfg, "h264", total)
    files = media.excerpts(source, cfg.batch_files, cfg.batch_minutes)
    media_seconds = sum(media.duration(f) for f in files)
    rows = []
    for workers in (1, 2):
        with tempfile.TemporaryDirectory(dir=WORK) as scratch_name:
            scratch = Path(scratch_name)
            say(f"batch: {len(files)} files, --workers {workers}")
            done = run_measured(
                [PYTHON, "-m", "workers.cli", "batch", files[0].parent, "--out", scratch / "out",
                 "--workers", str(workers)],
                env=clean_env(scratch / "data"),
            ).check(f"clipcoach batch --workers {workers}")  # fmt: skip
            made = len(list((scratch / "out").glob("*.vtt")))
        rows.append(
            [
                f"ours: `clipcoach batch --workers {workers}`",
                minutes(done.seconds),
                f"{media_seconds / done.seconds:.1f}",
                f"{made}/{len(files)}",
            ]
        )
    say("batch: plain tools file by file")
    plain_seconds = 0.0
    with tempfile.TemporaryDirectory(dir=WORK) as scratch_name:
        for f in files:
            plain_seconds += plain_tools(f, Path(scratch_name))["seconds"]
    rows.append(
        [
            "plain: ffmpeg then faster-whisper, one file after another",
            minutes(plain_seconds),
            f"{media_seconds / plain_seconds:.1f}",
            f"{len(files)}/{len(files)}",
        ]
    )
    body = table(["", "wall time", "lesson seconds per second", "transcripts"], rows)
    body += (
        f"\n\n{len(files)} different {cfg.batch_minutes:g}-minute 720p H.264 recordings "
        f"({minutes(media_seconds)} in all), every stage for each (the batch's lessons are "
        "complete lessons, not only transcripts), on the embedded filesystem queue and SQLite. "
        "Ours includes starting and stopping the worker and loading the model in each pool "
        "process."
    )
    suite.add("Batch throughput", body)
