"""Taking things out of a rendered clip: the picture for lessons whose consent allows sound only,
and blanked moments (black picture, silent sound, no caption words) wherever a clip covers one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from pipeline.tools import atomic_output, ffmpeg_command, run_tool
from pipeline.transcript import Segment, Transcript

Range = tuple[float, float]


def drop_picture_command(src: Path, dst: Path) -> list[str]:
    return [
        *ffmpeg_command(), "-y", "-i", str(src),
        "-map", "0:a:0", "-c:a", "copy", "-movflags", "+faststart", "-f", "mp4", str(dst),
    ]  # fmt: skip


def drop_picture(src: Path, dst: Path, *, timeout: float = 120.0) -> Path:
    """Write `src`'s sound alone to `dst` (MP4 holding one AAC stream; no picture at all)."""
    with atomic_output(Path(dst)) as tmp:
        run_tool(
            drop_picture_command(Path(src), tmp),
            timeout=timeout,
            message="The clip's sound could not be kept on its own",
        )
    return Path(dst)


def clip_ranges(blanks: Iterable[Range], start: float, end: float) -> list[Range]:
    """The blanked lesson ranges that fall inside the clip [start, end), in clip time, merged
    and in order; empty when the clip covers none."""
    inside = sorted(
        (max(s, start) - start, min(e, end) - start) for s, e in blanks if s < end and e > start
    )
    merged: list[Range] = []
    for s, e in inside:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return [(round(s, 3), round(e, 3)) for s, e in merged]


def _enable(ranges: Sequence[Range]) -> str:
    """An ffmpeg timeline expression true inside any of `ranges` (half-open, clip time)."""
    return "+".join(f"between(t,{s:.3f},{e - 0.0005:.4f})" for s, e in ranges)


def blank_command(
    src: Path, dst: Path, ranges: Sequence[Range], *, video: bool, audio: bool
) -> list[str]:
    """ffmpeg re-encoding `src` with a black picture and silence inside `ranges` (clip time)."""
    when = _enable(ranges)
    cmd = [*ffmpeg_command(), "-y", "-i", str(src)]
    if video:
        cmd += [
            "-map", "0:v:0", "-vf", f"drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='{when}'",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
        ]  # fmt: skip
    if audio:
        cmd += ["-map", "0:a:0", "-af", f"volume=0:enable='{when}'", "-c:a", "aac", "-b:a", "128k"]
    return [*cmd, "-movflags", "+faststart", "-f", "mp4", str(dst)]


def blank_ranges(
    src: Path,
    dst: Path,
    ranges: Sequence[Range],
    *,
    video: bool = True,
    audio: bool = True,
    timeout: float = 300.0,
) -> Path:
    """Write `src` to `dst` with `ranges` (clip time) black and silent."""
    with atomic_output(Path(dst)) as tmp:
        run_tool(
            blank_command(Path(src), tmp, ranges, video=video, audio=audio),
            timeout=timeout,
            message="The blanked moments could not be taken out of the clip",
        )
    return Path(dst)


def hide_words(transcript: Transcript, blanks: Iterable[Range]) -> Transcript:
    """The transcript without the words said inside blanked ranges (lesson time): a word goes
    when any of it is inside one; a segment without word timings goes when it touches one."""
    ranges = list(blanks)

    def blanked(s: float, e: float) -> bool:
        return any(s < b_end and e > b_start for b_start, b_end in ranges)

    segments: list[Segment] = []
    for segment in transcript.segments:
        if not segment.words:
            if not blanked(segment.start, segment.end):
                segments.append(segment)
            continue
        kept = tuple(w for w in segment.words if not blanked(w.start, w.end))
        if not kept:
            continue
        if len(kept) == len(segment.words):
            segments.append(segment)
        else:
            text = " ".join(w.text.strip() for w in kept)
            segments.append(Segment(kept[0].start, kept[-1].end, text, kept))
    return replace(transcript, segments=tuple(segments))
