"""Clip render speed: a 60 s clip from a 60-minute 720p lesson, clipcoach's smart cut against a
full re-encode of the same range (what `ffmpeg -ss ... -t 60 -c:v libx264` would do).

    .venv/bin/python -m benchmarks.clip_render [--runs 3] [--start 1800.37]

The lesson comes from benchmarks.media (720p H.264/AAC, keyframe every second, real speech),
made once into benchmarks/work/. The clip starts and ends between keyframes, as a mentor's clips
do. Prints the median of each over the runs, the speed-up, and the clip's measured duration.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.media import WORK, ffmpeg_args, lesson
from pipeline.clip import render_clip

CLIP_SECONDS = 60.0


def reencode(src: Path, dst: Path, start: float, seconds: float) -> None:
    """The plain way: decode from the nearest keyframe, re-encode every frame of the range."""
    subprocess.run(
        ffmpeg_args(
            "-y",
            "-ss",
            f"{start:.3f}",
            "-i",
            str(src),
            "-t",
            f"{seconds:.3f}",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "20",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            "-movflags",
            "+faststart",
            dst,
        ),
        check=True,
    )


def duration(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
        capture_output=True,
        check=True,
    ).stdout
    return float(json.loads(out)["format"]["duration"])


def timed(action) -> float:  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--start", type=float, default=1800.37)
    args = parser.parse_args()

    WORK.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    src = lesson("h264", 60, piece_minutes=1)
    print(
        f"lesson: {src} ({duration(src) / 60:.1f} min, {src.stat().st_size / 1e6:.0f} MB, "
        f"ready in {time.perf_counter() - began:.1f} s)"
    )
    start, end = args.start, args.start + CLIP_SECONDS
    smart: list[float] = []
    full: list[float] = []
    with tempfile.TemporaryDirectory(dir=WORK) as tmp:
        work = Path(tmp)
        for run in range(args.runs):
            clip = work / f"smart{run}.mp4"
            smart.append(timed(lambda clip=clip: render_clip(src, clip, start, end)))
            plain = work / f"plain{run}.mp4"
            full.append(timed(lambda plain=plain: reencode(src, plain, start, CLIP_SECONDS)))
            print(f"run {run + 1}: smart cut {smart[-1]:.2f} s, full re-encode {full[-1]:.2f} s")
        got, want = duration(work / "smart0.mp4"), CLIP_SECONDS
        size = (work / "smart0.mp4").stat().st_size / 1e6
    s, f = statistics.median(smart), statistics.median(full)
    print(f"clip {start:.2f}-{end:.2f} s of a 60-minute 720p lesson, median of {args.runs}:")
    print(f"  smart cut (pipeline.clip.render_clip): {s:.2f} s  (goal: at most 2 s)")
    print(f"  full re-encode (libx264 veryfast):      {f:.2f} s")
    print(
        f"  speed-up: {f / s:.1f}x; clip duration {got:.3f} s (asked {want:.3f} s), {size:.1f} MB"
    )


if __name__ == "__main__":
    main()
