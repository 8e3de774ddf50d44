"""clip: `pipeline.clip.render_clip` (benchmarks/clip_once.py) against ffmpeg re-encoding the same
range of the normalised lesson."""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path

from benchmarks import media
from benchmarks.measured import PYTHON, run_measured
from benchmarks.suite import WORK, Suite, clean_env, lesson_file, megabytes, minutes, say, table

CLIP_SECONDS = 60.0


def run(suite: Suite) -> None:
    try:
        from pipeline import clip
    except ImportError:
        clip = None  # type: ignore[assignment]
    if clip is None or not hasattr(clip, "render_clip"):
        suite.add(
            "Clip render", "**Not measured**: `pipeline.clip.render_clip` does not exist yet."
        )
        return
    cfg = suite.config
    length = max(cfg.lengths)
    source = lesson_file(cfg, "h264", length)
    with tempfile.TemporaryDirectory(dir=WORK) as scratch_name:
        scratch = Path(scratch_name)
        say(f"clip: normalising {source.name} for the clip source")
        lesson = ensure_normalised(source)
        duration = media.duration(lesson)
        span = min(CLIP_SECONDS, duration / 2)
        # Between keyframes, as a mentor's clips are: a cut on a keyframe would flatter ours.
        start = math.floor(duration / 2 - span / 2) + 0.37
        end = start + span
        say(f"clip: {span:g} s from {start:g} s")
        ours = run_measured(
            [
                PYTHON,
                "-m",
                "benchmarks.clip_once",
                lesson,
                scratch / "ours.mp4",
                str(start),
                str(end),
            ]
        )
        if ours.returncode != 0:
            suite.add(
                "Clip render",
                "**Not measured**: `render_clip(src, dst, start, end)` failed:\n\n```\n"
                + ours.output[-1500:]
                + "\n```",
            )
            return
        peer = run_measured(
            media.ffmpeg_args("-y", "-ss", f"{start}", "-i", lesson,
             "-t", f"{span}", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac",
             scratch / "peer.mp4")
        ).check("ffmpeg clip re-encode")  # fmt: skip
        ours_len = media.duration(scratch / "ours.mp4")
    body = table(
        ["", "time", "peak memory", "output length"],
        [
            ["ours: `pipeline.clip.render_clip`", minutes(ours.seconds), megabytes(ours.peak_bytes),
             f"{ours_len:.2f} s"],
            ["plain: ffmpeg -ss -i -t, libx264 veryfast + aac", minutes(peer.seconds),
             megabytes(peer.peak_bytes), f"{span:.2f} s"],
        ],
    )  # fmt: skip
    body += (
        f"\n\nA {span:g}-second clip from {start:.2f} s (between keyframes) of the normalised "
        f"{length:g}-minute H.264 "
        f"lesson; speedup **{peer.seconds / ours.seconds:.1f}x**. Times include starting the "
        "process (Python imports for ours)."
    )
    suite.add("Clip render", body)


def ensure_normalised(source: Path) -> Path:
    """The normalised lesson.mp4 for `source`, made once through `clipcoach process`."""
    target = WORK / f"normalised_{source.stem}.mp4"
    if target.exists():
        return target
    with tempfile.TemporaryDirectory(dir=WORK) as scratch:
        out = Path(scratch) / "out"
        run_measured(
            [PYTHON, "-m", "workers.cli", "process", source, "--out", out, "--no-transcript"],
            env=clean_env(Path(scratch) / "data"),
        ).check("clipcoach process (for the clip source)")
        shutil.move(out / "lesson.mp4", target)
    return target
