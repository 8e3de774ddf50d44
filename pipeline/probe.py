"""What a recording is: container, duration, streams, rotation, frame rate, keyframe spacing.

Later stages decide from this alone (remux or transcode, poster or not, transcript or not), so it
must also say clearly when a file is not a lesson at all. ffprobe is lenient: it reads a JPEG as a
one-frame video and reads a text file as a "tty" video, so the caller passes a check of the
file's first bytes (`ProbeOptions.sniff`: the workers give it `models.mediatype.sniff`, the one
list of signatures, which pipeline/ may not import) to name a renamed PDF for what it is.

Keyframe spacing and variable frame rate come from video packet headers (no decoding), which reads
a 60-minute file in a second or two.
"""

from __future__ import annotations

import itertools
import json
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import (
    EmptyFileError,
    MediaTooLongError,
    NoStreamsError,
    NotMediaError,
    PipelineError,
    UnreadableMediaError,
)
from pipeline.tools import ProgressCallback, ffprobe_binary, run_tool

IMAGE_FORMATS = frozenset({"image2", "gif", "webp_pipe", "tiff_pipe", "svg_pipe"})
"""Containers that hold still pictures; any `*_pipe` image demuxer counts too."""

IMAGE_CODECS = frozenset({"mjpeg", "png", "bmp", "gif", "webp", "tiff", "jpeg2000", "svg"})

Sniff = Callable[[bytes], str]
"""Returns the extension a file's first bytes announce (".mp4"), or raises ValueError whose message
says what the file is instead."""

SNIFF_HEAD = 4096


@dataclass(frozen=True)
class ProbeOptions:
    timeout: float = 120.0
    scan_packets: bool = True
    """Read video packet headers for keyframe spacing and frame-rate regularity."""
    max_duration: float | None = None
    """Longest recording the deployment accepts, in seconds; None accepts any."""
    sniff: Sniff | None = None
    """Checked before ffprobe runs; None leaves the verdict to ffprobe alone."""


@dataclass(frozen=True)
class VideoStream:
    codec: str
    profile: str
    pix_fmt: str
    width: int
    height: int
    display_width: int
    display_height: int
    fps: float
    rotation: int
    """Clockwise degrees a player turns the picture: 0, 90, 180 or 270."""
    variable_frame_rate: bool
    max_keyframe_interval: float | None
    """Longest gap between keyframes in seconds; None when packets were not scanned."""
    level: int = 0
    start_time: float = 0.0


@dataclass(frozen=True)
class AudioStream:
    codec: str
    profile: str
    sample_rate: int
    channels: int
    start_time: float = 0.0


@dataclass(frozen=True)
class ProbeResult:
    format_name: str
    duration: float
    size: int
    start_time: float
    video: VideoStream | None
    audio: AudioStream | None

    @property
    def has_video(self) -> bool:
        return self.video is not None

    @property
    def has_audio(self) -> bool:
        return self.audio is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbeResult:
        video = data.get("video")
        audio = data.get("audio")
        return cls(
            format_name=str(data["format_name"]),
            duration=float(data["duration"]),
            size=int(data["size"]),
            start_time=float(data.get("start_time", 0.0)),
            video=VideoStream(**video) if video else None,
            audio=AudioStream(**audio) if audio else None,
        )


def parse_rotation(stream: dict[str, Any]) -> int:
    """Clockwise display rotation from the display matrix (or the old `rotate` tag)."""
    degrees = 0.0
    for side in stream.get("side_data_list", ()):
        if "rotation" in side:
            # ffprobe reports the matrix angle counter-clockwise; players turn the other way.
            degrees = -float(side["rotation"])
            break
    else:
        tag = stream.get("tags", {}).get("rotate")
        if tag:
            degrees = float(tag)
    return round(degrees / 90.0) * 90 % 360


def parse_rate(text: str | None) -> float:
    if not text or text in ("0/0", "N/A"):
        return 0.0
    num, _, den = text.partition("/")
    try:
        return float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        return 0.0


def packet_stats(lines: list[str]) -> tuple[float | None, bool, float]:
    """(longest keyframe gap, variable frame rate?, median frame duration) from `pts,flags`."""
    times: list[float] = []
    keys: list[float] = []
    for line in lines:
        pts, _, flags = line.strip().partition(",")
        try:
            t = float(pts)
        except ValueError:
            continue
        times.append(t)
        if "K" in flags:
            keys.append(t)
    if not times:
        return None, False, 0.0
    times.sort()
    keys.sort()
    end = times[-1]
    bounds = [*keys, end] if keys else [times[0], end]
    max_gap = max((b - a for a, b in itertools.pairwise(bounds)), default=0.0)
    deltas = [b - a for a, b in itertools.pairwise(times) if b > a]
    if len(deltas) < 3:
        return max_gap, False, deltas[0] if deltas else 0.0
    median = statistics.median(deltas)
    irregular = sum(abs(d - median) > 0.25 * median for d in deltas)
    return max_gap, irregular > 0.05 * len(deltas), median


def _first_stream(streams: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    for stream in streams:
        if stream.get("codec_type") != kind:
            continue
        if stream.get("disposition", {}).get("attached_pic"):
            continue  # cover art in an MP3 or M4A is not a picture track
        return stream
    return None


def _video_stream(stream: dict[str, Any], packets: list[str] | None) -> VideoStream:
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    rotation = parse_rotation(stream)
    turned = rotation in (90, 270)
    fps = parse_rate(stream.get("avg_frame_rate")) or parse_rate(stream.get("r_frame_rate"))
    max_key, vfr, median = packet_stats(packets) if packets is not None else (None, False, 0.0)
    if median > 0 and (not fps or vfr):
        fps = fps or 1.0 / median
    return VideoStream(
        codec=str(stream.get("codec_name", "")),
        profile=str(stream.get("profile", "")),
        pix_fmt=str(stream.get("pix_fmt", "")),
        width=width,
        height=height,
        display_width=height if turned else width,
        display_height=width if turned else height,
        fps=round(fps, 3),
        rotation=rotation,
        variable_frame_rate=vfr,
        max_keyframe_interval=None if max_key is None else round(max_key, 3),
        level=int(stream.get("level") or 0),
        start_time=float(stream.get("start_time") or 0.0),
    )


def _audio_stream(stream: dict[str, Any]) -> AudioStream:
    return AudioStream(
        codec=str(stream.get("codec_name", "")),
        profile=str(stream.get("profile", "")),
        sample_rate=int(stream.get("sample_rate") or 0),
        channels=int(stream.get("channels") or 0),
        start_time=float(stream.get("start_time") or 0.0),
    )


def _read_container(src: Path, kind: str | None, timeout: float) -> dict[str, Any]:
    args = [ffprobe_binary(), "-v", "error", "-show_format", "-show_streams"]
    args += ["-of", "json", str(src)]
    try:
        out = run_tool(args, timeout=timeout, error=UnreadableMediaError)
    except UnreadableMediaError as exc:
        if "moov atom not found" in exc.detail and kind == ".mp4":
            raise UnreadableMediaError(
                "The recording looks truncated or damaged: its index (moov atom) is missing, "
                "which usually means the upload or the recording stopped part-way.",
                detail=exc.detail,
            ) from None
        raise NotMediaError(
            "This file is not a recording ffmpeg can read as audio or video.", detail=exc.detail
        ) from None
    data: dict[str, Any] = json.loads(out or b"{}")
    return data


def _read_video_packets(src: Path, timeout: float) -> list[str]:
    args = [ffprobe_binary(), "-v", "error", "-select_streams", "V:0"]
    args += ["-show_entries", "packet=pts_time,flags", "-of", "csv=p=0", str(src)]
    out = run_tool(args, timeout=timeout, error=UnreadableMediaError)
    return out.decode("ascii", "replace").splitlines()


def probe(
    src: Path,
    options: ProbeOptions = ProbeOptions(),
    *,
    on_progress: ProgressCallback | None = None,
) -> ProbeResult:
    """Describe `src`, or raise the `PipelineError` that says why it is not a usable recording."""
    src = Path(src)
    try:
        size = src.stat().st_size
        with src.open("rb") as fh:
            head = fh.read(SNIFF_HEAD)
    except OSError as exc:
        raise PipelineError(f"The file could not be read: {exc.strerror}") from None
    if size == 0:
        raise EmptyFileError("The file is empty (0 bytes): the upload may have failed.")
    kind = None
    if options.sniff is not None:
        try:
            kind = options.sniff(head)
        except ValueError as exc:
            raise NotMediaError(str(exc)) from None
    data = _read_container(src, kind, options.timeout)
    fmt = data.get("format", {})
    streams = data.get("streams", [])
    format_name = str(fmt.get("format_name", ""))
    video = _first_stream(streams, "video")
    audio = _first_stream(streams, "audio")
    if format_name in IMAGE_FORMATS or format_name.endswith("_pipe"):
        raise NotMediaError("This file is a still image, not an audio or video recording.")
    if video is None and audio is None:
        raise NoStreamsError("The file is a media container with no audio or video in it.")
    duration = float(fmt.get("duration") or 0.0)
    still = audio is None and video is not None and video.get("codec_name") in IMAGE_CODECS
    if still and duration < 0.5:
        raise NotMediaError("This file is a still image, not an audio or video recording.")
    if duration <= 0.0:
        raise UnreadableMediaError("The recording has no readable duration: it may be damaged.")
    if options.max_duration is not None and duration > options.max_duration:
        raise MediaTooLongError(
            f"The recording is {duration / 60:.0f} minutes long; the limit is "
            f"{options.max_duration / 60:.0f} minutes."
        )
    if on_progress:
        on_progress(0.5)
    packets = None
    if video is not None and options.scan_packets:
        packets = _read_video_packets(src, options.timeout)
    if on_progress:
        on_progress(1.0)
    return ProbeResult(
        format_name=format_name,
        duration=round(duration, 3),
        size=size,
        start_time=float(fmt.get("start_time") or 0.0),
        video=_video_stream(video, packets) if video is not None else None,
        audio=_audio_stream(audio) if audio is not None else None,
    )
