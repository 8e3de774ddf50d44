"""Blanking a moment in a stored 10-minute lesson: clipcoach's partial re-encode (only the
groups of pictures holding the moment) against a full re-encode of the whole lesson.

    .venv/bin/python -m benchmarks.blank_stored [--minutes 10] [--runs 2]

The lesson comes from benchmarks.media (720p H.264/AAC, a keyframe every second), made once into
benchmarks/work/. The moment is 20 s starting between keyframes (a disclosure, a name read out).
Prints the median wall time of each way, and how many frames were copied.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.media import WORK, lesson
from pipeline.probe import ProbeOptions, probe
from pipeline.redact import blank_command, blank_recording
from pipeline.tools import run_tool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--start", type=float, default=301.37)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    src = lesson("h264", args.minutes)
    info = probe(src, ProbeOptions(scan_packets=False))
    ranges = [(args.start, args.start + args.seconds)]
    partial: list[float] = []
    whole: list[float] = []
    copied = total = 0
    with tempfile.TemporaryDirectory(dir=WORK) as work:
        for _ in range(args.runs):
            began = time.perf_counter()
            result = blank_recording(src, Path(work) / "partial.mp4", ranges, probe=info)
            partial.append(time.perf_counter() - began)
            copied, total = result.copied_frames, result.frames
            began = time.perf_counter()
            cmd = blank_command(src, Path(work) / "whole.mp4", ranges, video=True, audio=True)
            run_tool(cmd, timeout=7200)
            whole.append(time.perf_counter() - began)
    print(f"lesson: {args.minutes:g} min 720p H.264/AAC, moment {args.seconds:g} s")
    print(f"partial re-encode: {statistics.median(partial):.1f} s ({copied}/{total} frames copied)")
    print(f"full re-encode:    {statistics.median(whole):.1f} s")


if __name__ == "__main__":
    main()
