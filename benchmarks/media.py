"""Benchmark lessons: real speech from start to end, in the two formats the goals name, cached.

A lesson of N minutes is made in two steps, so that an hour-long HEVC file does not take an hour
of encoding to produce on two cores:

1. a *piece* (a few minutes) is encoded once per format: the sample lesson's slides looped as the
   picture, with light temporal noise so the encoder and decoders see camera-like detail rather
   than flat colour, and as sound the sample lesson's speech followed by every recording in
   `shared/media/speech` with short pauses between, looped to the piece's length;
2. copies of the piece are joined with ffmpeg's concat demuxer and `-c copy`, and cut to N
   minutes.

Keyframes come every second, as phones record them; `benchmarks.sparse_media` makes the
sparse-keyframe lessons cameras and screen recorders write.

Everything lands in benchmarks/work/ (git-ignored) under names that carry the parameters, so a
second run reuses it.
"""

from __future__ import annotations

import math
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.tools import global_flags

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "benchmarks" / "work"
SAMPLE_LESSON = REPO / "sample_media" / "lesson.mp4"
SHARED_MEDIA = REPO / "tests" / "data"
SPEECH_DIR = SHARED_MEDIA / "speech"

SPEECH_RATE = 48_000
PAUSES = (1.0, 2.5, 0.6, 4.0, 1.5, 8.0)
"""Seconds of silence between recordings: breaths, and the quiet of pupils working."""


@dataclass(frozen=True)
class LessonFormat:
    """How a camera or phone might have recorded the lesson."""

    name: str
    label: str
    width: int
    height: int
    video_args: tuple[str, ...]


FORMATS = {
    "h264": LessonFormat(
        "h264",
        "720p H.264/AAC",
        1280,
        720,
        (
            *("-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"),
            *("-b:v", "4M", "-maxrate", "5M", "-bufsize", "8M"),
        ),
    ),
    "hevc": LessonFormat(
        "hevc",
        "1080p HEVC/AAC",
        1920,
        1080,
        (
            *("-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-b:v", "6M"),
            *("-tag:v", "hvc1", "-x265-params", "log-level=error"),
        ),
    ),
}


def ffmpeg_args(*args: str | Path) -> list[str]:
    """An ffmpeg command with the pipeline's global flags: the benchmarks' plain-tool runs and
    media making start ffmpeg the way the stages do."""
    return ["ffmpeg", *global_flags(), *map(str, args)]


def ffmpeg(*args: str | Path) -> None:
    cmd = ffmpeg_args("-y", *args)
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {' '.join(cmd)}\n{proc.stderr.decode()[-2000:]}")


def _decode(path: Path) -> np.ndarray:
    """Any recording as mono 16-bit samples at SPEECH_RATE."""
    cmd = ffmpeg_args("-i", path, "-map", "0:a:0")
    cmd += ["-ac", "1", "-ar", str(SPEECH_RATE), "-f", "s16le", "-"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.int16)


def speech_sources() -> list[Path]:
    """The sample lesson first (a teacher talking), then the shared real recordings."""
    shared = sorted(
        p for p in SPEECH_DIR.iterdir() if p.suffix.lower() in (".flac", ".mp3", ".wav")
    )
    return [SAMPLE_LESSON, *shared]


def speech_track(work: Path = WORK) -> Path:
    """All the speech joined with pauses: one WAV, made once."""
    path = work / "speech_track.wav"
    if path.exists():
        return path
    work.mkdir(parents=True, exist_ok=True)
    parts: list[np.ndarray] = []
    for i, source in enumerate(speech_sources()):
        parts.append(_decode(source))
        parts.append(np.zeros(int(PAUSES[i % len(PAUSES)] * SPEECH_RATE), dtype=np.int16))
    tmp = path.with_suffix(".tmp.wav")
    with wave.open(str(tmp), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SPEECH_RATE)
        out.writeframes(np.concatenate(parts).tobytes())
    tmp.replace(path)
    return path


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as handle:
        return float(handle.getnframes() / handle.getframerate())


def piece(fmt: LessonFormat, seconds: float, work: Path = WORK) -> Path:
    """`seconds` of lesson in `fmt`, encoded once: looped slides with noise, looped speech."""
    path = work / f"piece_{fmt.name}_{fmt.height}p_{seconds:g}s.mp4"
    if path.exists():
        return path
    speech = speech_track(work)
    tmp = path.with_name(f".tmp.{path.name}")
    vf = f"scale={fmt.width}:{fmt.height}:flags=bicubic,fps=25,noise=alls=10:allf=t,format=yuv420p"
    ffmpeg(
        *("-stream_loop", "-1", "-i", SAMPLE_LESSON),
        *("-stream_loop", "-1", "-i", speech),
        *("-map", "0:v:0", "-map", "1:a:0", "-t", f"{seconds:.3f}"),
        *("-vf", vf, *fmt.video_args, "-g", "25"),
        *("-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2"),
        tmp,
    )
    tmp.replace(path)
    return path


def lesson(fmt_name: str, minutes: float, *, piece_minutes: float = 8.0, work: Path = WORK) -> Path:
    """A lesson of `minutes` in format `fmt_name` ("h264" or "hevc"), joined from pieces of
    `piece_minutes` (give every length of one run the same piece, so it is encoded once)."""
    fmt = FORMATS[fmt_name]
    seconds = minutes * 60
    piece_seconds = piece_minutes * 60
    source = piece(fmt, piece_seconds, work)
    if abs(seconds - piece_seconds) < 0.5:
        return source
    path = work / f"lesson_{fmt.name}_{fmt.height}p_{minutes:g}min_p{piece_minutes:g}.mp4"
    return repeated(source, path, seconds, piece_seconds)


def repeated(source: Path, path: Path, seconds: float, piece_seconds: float) -> Path:
    """`source` (of `piece_seconds`) joined to itself with `-c copy` until it lasts `seconds`,
    written to `path` (kept: an existing one is reused)."""
    if path.exists():
        return path
    copies = math.ceil(seconds / piece_seconds)
    listing = path.with_name(f".concat_{path.stem}.txt")
    listing.write_text("".join(f"file '{source.name}'\n" for _ in range(copies)))
    tmp = path.with_name(f".tmp.{path.name}")
    try:
        ffmpeg(
            *("-f", "concat", "-safe", "0", "-i", listing),
            *("-map", "0", "-c", "copy", "-t", f"{seconds:.3f}"),
            tmp,
        )
    finally:
        listing.unlink(missing_ok=True)
    tmp.replace(path)
    return path


def excerpts(source: Path, count: int, minutes: float, work: Path = WORK) -> list[Path]:
    """`count` different recordings of `minutes` each, cut from `source` with `-c copy`.

    They start at different places, so their bytes (and checksums) differ: a batch treats
    them as separate recordings.
    """
    folder = work / f"batch_{source.stem}_{count}x{minutes:g}min"
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for i in range(count):
        path = folder / f"lesson_{i + 1:02d}.mp4"
        if not path.exists():
            tmp = path.with_name(f".tmp.{path.name}")
            ffmpeg(
                *("-ss", f"{i * minutes * 60:.3f}", "-i", source),
                *("-map", "0", "-c", "copy", "-t", f"{minutes * 60:.3f}"),
                tmp,
            )
            tmp.replace(path)
        made.append(path)
    return made


def duration(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    return float(out.strip())
