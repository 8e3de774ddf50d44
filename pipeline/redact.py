"""Taking things out of recordings: the picture of a clip whose lesson's consent allows sound
only, and blanked moments (black picture, silent sound, no caption words) wherever a clip
covers one, and in the stored lesson itself (`blank_recording`).

`blank_recording` rewrites a whole recording. Only the groups of pictures that hold a blanked
moment are re-encoded (from the IDR picture at or before it to the IDR at or after it); every
other packet is copied, through the same MPEG-TS parts the clip smart cut uses
(pipeline.clip), so a moment in an hour-long lesson costs seconds of encoding, not an hour.
Sound is re-encoded whole (AAC is cheap). A recording with no IDR pictures in MP4 framing
(HEVC, MJPEG, VP9...) or with a rotation is re-encoded whole instead.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.captions import clip_transcript
from pipeline.probe import ProbeOptions, ProbeResult
from pipeline.probe import probe as probe_media
from pipeline.pupilnames import NameList, name_times, redact_names
from pipeline.tools import ProgressCallback, atomic_output, ffmpeg_command, run_tool
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


def silence_command(src: Path, dst: Path, ranges: Sequence[Range]) -> list[str]:
    """ffmpeg copying `src`'s picture (if any) as it is and re-encoding its sound silent inside
    `ranges` (clip time)."""
    return [
        *ffmpeg_command(), "-y", "-i", str(src), "-map", "0:v:0?", "-c:v", "copy",
        "-map", "0:a:0", "-af", f"volume=0:enable='{_enable(ranges)}'", "-c:a", "aac",
        "-b:a", "128k", "-movflags", "+faststart", "-f", "mp4", str(dst),
    ]  # fmt: skip


def silence_ranges(
    src: Path, dst: Path, ranges: Sequence[Range], *, timeout: float = 300.0
) -> Path:
    """Write `src` to `dst` with its sound silent inside `ranges` (clip time): where pupils'
    names are said in a shared clip (`name_silences`). The picture is copied."""
    with atomic_output(Path(dst)) as tmp:
        run_tool(
            silence_command(Path(src), tmp, ranges),
            timeout=timeout,
            message="The pupils' names could not be silenced in the clip",
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


def shown_transcript(
    transcript: Transcript, blanks: Iterable[Range], names: NameList | None = None
) -> Transcript:
    """What a reader may read of a lesson's transcript: without the words said in a blanked
    moment and, when `names` is given (a reader outside the coaching pair), with the pupils'
    names on the class list replaced by [pupil]."""
    hidden = hide_words(transcript, blanks)
    return redact_names(hidden, names) if names else hidden


def shown_clip_transcript(
    transcript: Transcript,
    blanks: Iterable[Range],
    start: float,
    end: float,
    names: NameList | None = None,
) -> Transcript:
    """What a clip's viewers may read: the words inside the clip, timed from its start, as
    `shown_transcript` leaves them (names matched over the whole lesson, so a sentence cut by
    the clip is judged as it was said). The clip's captions and the review page's transcript
    both come from here, so they never disagree about what is hidden."""
    return clip_transcript(shown_transcript(transcript, blanks, names), start, end)


NAME_PAD_SECONDS = 0.08
"""Word timestamps are a few tens of milliseconds off; a name's silence reaches this far past
each end of its word so no syllable is heard."""


def name_silences(
    transcript: Transcript,
    blanks: Iterable[Range],
    names: NameList,
    start: float,
    end: float,
) -> list[Range]:
    """The ranges (clip time, merged) over which a shared clip of [start, end) is silent
    because a pupil's name on the class list is said there."""
    said = name_times(hide_words(transcript, blanks), names)
    padded = [(s - NAME_PAD_SECONDS, e + NAME_PAD_SECONDS) for s, e in said]
    return clip_ranges(padded, start, end)


def merge_ranges(ranges: Iterable[Range], duration: float | None = None) -> list[Range]:
    """`ranges` in order, overlapping or touching ones joined, cut to [0, duration]."""
    merged: list[Range] = []
    for s, e in sorted(ranges):
        s, e = max(0.0, s), (e if duration is None else min(e, duration))
        if e <= s:
            continue
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


@dataclass(frozen=True)
class BlankOptions:
    preset: str = "veryfast"
    crf: int = 20
    """The re-encoded groups use a little more quality than the lesson so the joins do not show."""
    audio_bitrate: str = "128k"
    timeout: float | None = None
    """Seconds per ffmpeg run; None allows 60 s plus 2 s per second of media."""


@dataclass(frozen=True)
class BlankResult:
    path: Path
    ranges: tuple[Range, ...]
    """The ranges made black and silent (merged, within the recording)."""
    frames: int
    copied_frames: int
    """Video frames copied packet for packet (the rest were re-encoded); 0 for sound only."""
    whole: bool
    """True when the picture had to be re-encoded whole (no IDR framing, rotated video)."""


@dataclass(frozen=True)
class BlankPart:
    """Frames [at, at + frames) of the video, copied or re-encoded with `black` (part time)."""

    at: float
    frames: int
    black: tuple[Range, ...] | None
    """None: copied as it is; else re-encoded with these ranges (from the part's start) black."""


def plan_blank(
    packets: Sequence[tuple[float, bool]], ranges: Sequence[Range], fps: float
) -> tuple[float, list[BlankPart]]:
    """Split a whole video's frames into copied and re-encoded parts so that every frame whose
    time lies in a range (to a quarter of a frame) is re-encoded black, and each re-encoded part
    runs from an IDR picture to the next IDR (or the end). Returns the frame duration and the
    parts in order. `packets` are (presentation time, is an IDR) of every video packet."""
    frames = sorted(packets)
    fd = 1.0 / fps if fps else 0.04
    if len(frames) > 1:
        steps = sorted(b[0] - a[0] for a, b in itertools.pairwise(frames))
        fd = steps[len(steps) // 2] or fd
    eps = fd / 4
    times = [t for t, _ in frames]
    idr = [i for i, (_, key) in enumerate(frames) if key]
    windows: list[tuple[int, int]] = []  # frame index [first, last) re-encoded
    for s, e in ranges:
        hit = [i for i, t in enumerate(times) if s - eps <= t < e - eps]
        if not hit:
            continue
        first = max((i for i in idr if i <= hit[0]), default=0)
        last = min((i for i in idr if i > hit[-1]), default=len(frames))
        if windows and first <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(windows[-1][1], last))
        else:
            windows.append((first, last))
    parts: list[BlankPart] = []
    at = 0
    for first, last in windows:
        if first > at:
            parts.append(BlankPart(times[at], first - at, None))
        origin = times[first]
        black = tuple(
            (round(max(s, origin) - origin, 6), round(e - origin, 6))
            for s, e in ranges
            if s < (times[last] if last < len(times) else times[-1] + fd) and e > origin
        )
        parts.append(BlankPart(origin, last - first, black))
        at = last
    if at < len(frames):
        parts.append(BlankPart(times[at], len(frames) - at, None))
    return fd, parts


def audio_blank_command(
    src: Path, dst: Path, ranges: Sequence[Range], options: BlankOptions
) -> list[str]:
    """The whole sound of `src` re-encoded as AAC, silent inside `ranges`."""
    return [
        *ffmpeg_command(), "-y", "-i", str(src), "-map", "0:a:0",
        "-af", f"volume=0:enable='{_enable(ranges)}'",
        "-c:a", "aac", "-b:a", options.audio_bitrate, "-movflags", "+faststart", "-f", "mp4",
        str(dst),
    ]  # fmt: skip


def blank_recording(
    src: Path,
    dst: Path,
    ranges: Sequence[Range],
    options: BlankOptions = BlankOptions(),
    *,
    probe: ProbeResult | None = None,
    on_progress: ProgressCallback | None = None,
) -> BlankResult:
    """Write `src` to `dst` (MP4; sound only when `src` has no picture) with `ranges` (seconds
    of the recording) black and silent and everything else as it was."""
    from pipeline.clip import ClipOptions, encode_args, part_command, read_packets, render_parts

    src, dst = Path(src), Path(dst)
    info = probe if probe is not None else probe_media(src, ProbeOptions(scan_packets=False))
    merged = merge_ranges(ranges, info.duration or None)
    timeout = options.timeout or 60.0 + 2.0 * (info.duration or 0.0)
    message = "The blanked moments could not be taken out of the recording"
    video = info.video
    if not merged:
        raise ValueError("no blanked range lies inside the recording")
    if video is None:
        with atomic_output(dst) as tmp:
            run_tool(
                audio_blank_command(src, tmp, merged, options), timeout=timeout, message=message
            )
        return BlankResult(dst, tuple(merged), 0, 0, whole=False)
    packets = read_packets(src, 0.0, info.duration or 0.0)
    if video.rotation or not any(key for _, key in packets):
        with atomic_output(dst) as tmp:
            cmd = blank_command(src, tmp, merged, video=True, audio=info.has_audio)
            run_tool(cmd, timeout=timeout, message=message)
        return BlankResult(dst, tuple(merged), len(packets), 0, whole=True)
    fd, parts = plan_blank(packets, merged, video.fps)
    eps = fd / 4
    clip_options = ClipOptions(preset=options.preset, crf=options.crf, long_end_seconds=1e9)
    pieces = []
    for part in parts:
        if part.black is None:
            command = functools.partial(
                part_command, src, at=part.at + eps, frames=part.frames, encode=None
            )
        else:
            encode = encode_args(info, clip_options, part.frames * fd)
            # after the input seek to `seek`, a frame shown at time T has t = T - seek; a frame
            # is black when s - eps <= T - at < e - eps (plan_blank's quarter-frame tolerance)
            seek = max(0.0, part.at - eps)
            shift = part.at - seek - eps
            boxes = "+".join(
                f"between(t,{s + shift:.6f},{e + shift - 1e-6:.6f})" for s, e in part.black
            )
            encode["vf"] = f"drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='{boxes}'"
            command = functools.partial(
                part_command, src, at=seek, frames=part.frames, encode=encode
            )
        pieces.append((command, part.frames * fd))
    sound = None
    if info.has_audio:

        def sound(path: Path) -> None:
            cmd = audio_blank_command(src, path, merged, options)
            run_tool(cmd, timeout=timeout, message=message)

    render_parts(
        dst, pieces, sound, timeout=timeout, message=message, workers=2,
        on_progress=on_progress, share=0.9,
    )  # fmt: skip
    if on_progress:
        on_progress(1.0)
    copied = sum(p.frames for p in parts if p.black is None)
    return BlankResult(dst, tuple(merged), len(packets), copied, whole=False)
