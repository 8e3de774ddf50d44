"""Benchmark lessons with sparse keyframes, the way classroom cameras and screen recorders write
them (issue 16): made once, cached in benchmarks/work/ like `benchmarks.media`'s lessons.

- `gop10`: 720p H.264/AAC, camera-like (the sample lesson's slides with temporal noise),
  a keyframe every 10 s and none at scene changes (`-sc_threshold 0`);
- `screen`: 720p H.264/AAC, a screen recording: the slides with no noise (mostly static
  picture), a keyframe every 40 s only.

A piece of `PIECE_MINUTES` is encoded once per format and joined with `-c copy` to the length
asked for; the piece length is a whole number of keyframe intervals, so the joins keep them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchmarks.media import SAMPLE_LESSON, WORK, ffmpeg, repeated, speech_track

PIECE_MINUTES = 8.0
FPS = 25


@dataclass(frozen=True)
class SparseFormat:
    name: str
    label: str
    keyframe_seconds: int
    noise: int
    """Strength of the temporal noise filter: 0 for a screen recording's still picture."""


FORMATS = {
    "gop10": SparseFormat("gop10", "720p H.264/AAC, keyframe every 10 s", 10, 10),
    "screen": SparseFormat("screen", "720p H.264/AAC screen recording, keyframe every 40 s", 40, 0),
}


def piece(fmt: SparseFormat, work: Path = WORK) -> Path:
    path = work / f"sparse_piece_{fmt.name}_{PIECE_MINUTES:g}min.mp4"
    if path.exists():
        return path
    work.mkdir(parents=True, exist_ok=True)
    speech = speech_track(work)
    tmp = path.with_name(f".tmp.{path.name}")
    noise = f",noise=alls={fmt.noise}:allf=t" if fmt.noise else ""
    gop = str(fmt.keyframe_seconds * FPS)
    ffmpeg(
        *("-stream_loop", "-1", "-i", SAMPLE_LESSON),
        *("-stream_loop", "-1", "-i", speech),
        *("-map", "0:v:0", "-map", "1:a:0", "-t", f"{PIECE_MINUTES * 60:.3f}"),
        *("-vf", f"scale=1280:720,fps={FPS}{noise},format=yuv420p"),
        *("-c:v", "libx264", "-preset", "veryfast", "-b:v", "3M", "-maxrate", "4M"),
        *("-bufsize", "8M", "-g", gop, "-keyint_min", gop, "-sc_threshold", "0"),
        *("-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2"),
        tmp,
    )
    tmp.replace(path)
    return path


def lesson(fmt_name: str, minutes: float, work: Path = WORK) -> Path:
    fmt = FORMATS[fmt_name]
    source = piece(fmt, work)
    if abs(minutes - PIECE_MINUTES) < 0.01:
        return source
    path = work / f"sparse_lesson_{fmt.name}_{minutes:g}min.mp4"
    return repeated(source, path, minutes * 60, PIECE_MINUTES * 60)
