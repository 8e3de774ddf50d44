"""memory: each pipeline stage alone in a fresh process (benchmarks/stage.py), as a worker
runs it."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from benchmarks import media
from benchmarks.measured import PYTHON, run_measured
from benchmarks.parts.peers import peer_for
from benchmarks.suite import (
    WORK,
    Goal,
    Suite,
    clean_env,
    lesson_file,
    megabytes,
    minutes,
    say,
    table,
    verdict,
)

GOAL_MEMORY_BYTES = 1.5e9


def run(suite: Suite) -> None:
    from pipeline.lesson import SOURCE_STEM, STAGES

    cfg = suite.config
    longest, shortest = max(cfg.lengths), min(cfg.lengths)
    rows, worst = [], (0, "")
    peer_rows = []
    for index, codec in enumerate(cfg.codecs):
        length = longest if index == 0 else shortest
        source = lesson_file(cfg, codec, length)
        say(f"memory: stages one by one on {source.name}")
        with tempfile.TemporaryDirectory(dir=WORK) as scratch:
            workdir = Path(scratch)
            (workdir / f"{SOURCE_STEM}{source.suffix}").symlink_to(source)
            for stage in STAGES:
                done = run_measured(
                    [PYTHON, "-m", "benchmarks.stage", stage, workdir],
                    env=clean_env(workdir / ".data"),
                ).check(f"stage {stage}")
                report = json.loads(done.output.strip().splitlines()[-1])
                own, tool = report["self_kb"] * 1024, report["children_kb"] * 1024
                total = own + tool
                if total > worst[0]:
                    worst = (total, f"{stage}, {media.FORMATS[codec].label}, {length:g} min")
                tool_text = megabytes(tool) if tool else "-"
                if tool and not report.get("children_sampled"):
                    tool_text += " (≤, too short to sample)"
                rows.append(
                    [
                        f"{media.FORMATS[codec].label}, {length:g} min",
                        stage,
                        minutes(report["seconds"]),
                        megabytes(own),
                        tool_text,
                        megabytes(total),
                    ]
                )
        peer = peer_for(suite, codec, length, source)
        peer_rows.append((codec, max(peer["ffmpeg_peak"], peer["whisper_peak"])))
    body = (
        "Each stage run alone in a fresh process, as a worker runs it (the transcribe stage "
        "loads the model in that process). The worker's peak is its Python process plus the "
        "largest tool it ran at the same time (tools sampled from /proc while they run; see "
        f"benchmarks/stage.py). The first format runs at the longest length ({longest:g} min); "
        f"the others at the shortest ({shortest:g} min), because only transcription grows with "
        "length and every format carries the same speech, while the video stages' memory "
        "depends on the picture size, not on the length (this saves re-running a long "
        "transcode the end-to-end part already measured).\n\n"
    )
    body += table(
        ["input", "stage", "time", "Python process", "largest tool child", "worker peak"], rows
    )
    peer_peak = max(p for _, p in peer_rows)
    body += (
        f"\n\nPlain tools, same inputs: largest process {megabytes(peer_peak)} "
        "(ffmpeg transcode or faster-whisper, whichever is larger)."
    )
    suite.add("Worker peak memory per stage", body)
    suite.goals.append(
        Goal(
            "worker peak memory at most 1.5 GB",
            f"{megabytes(worst[0])} ({worst[1]})",
            megabytes(peer_peak),
            verdict(worst[0] <= GOAL_MEMORY_BYTES),
        )
    )
