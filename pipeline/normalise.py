"""One browser-playable file per lesson: H.264/AAC MP4 with faststart, or AAC .m4a for sound only.

Transcoding an hour of video costs minutes; remuxing it costs seconds. So the decision is a pure
function of the probe (`plan_normalise`), each stream is copied whenever it already fits and
encoded only when it must, and the command is built separately (`build_command`) so both can be
tested without running ffmpeg.

A source the browser already plays is remuxed however far apart its keyframes are: cameras,
video-call and screen recorders write one every 10 s or only at scene changes, and re-encoding
them would cost minutes where a copy costs a second. The stages downstream cope with sparse
keyframes themselves (clips re-encode from the cut to the next IDR, thumbnails and scene scores
sample at a fixed rate when keyframes are too far apart). A transcoded lesson gets a keyframe
every `keyframe_interval` seconds, which keeps those stages on their cheapest path.

A faststart MP4 cut part-way still has its index, so ffmpeg reads it to the cut without failing.
The result then carries a warning instead of an error: the lesson up to the cut is still usable.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import ffmpeg

from pipeline.errors import FfmpegError
from pipeline.probe import ProbeResult, VideoStream
from pipeline.tools import (
    ProgressCallback,
    atomic_output,
    ffmpeg_binary,
    ffprobe_binary,
    global_flags,
    run_tool,
)

BROWSER_H264_PROFILES = frozenset({"Constrained Baseline", "Baseline", "Main", "High"})
REMUX_CONTAINERS = ("mov", "mp4", "matroska", "mpegts")
"""Containers whose H.264 timestamps survive a copy into MP4 (AVI and FLV often do not)."""
AAC_PROFILES = frozenset({"LC", "HE-AAC", "HE-AACv2", ""})
AAC_SAMPLE_RATES = frozenset({16000, 22050, 24000, 32000, 44100, 48000})


@dataclass(frozen=True)
class NormaliseOptions:
    max_width: int = 1280
    max_height: int = 720
    """The box the displayed picture must fit in, turned to match portrait video."""
    keyframe_interval: float = 2.0
    """Keyframe spacing of a transcoded lesson (a remuxed one keeps its own)."""
    max_fps: float = 30.0
    preset: str = "veryfast"
    large_source_preset: str = "ultrafast"
    """x264 preset for sources larger than the box (1080p phone video and up). Decoding them at
    full size already costs as much CPU as a veryfast encode (an hour of 1080p HEVC: about 20
    CPU-minutes on this 2-core machine), so a cheaper encode saves a quarter of the normalise
    CPU at the same picture quality (measured on 2 minutes of noisy 1080p HEVC: SSIM 0.969
    against the source, veryfast 0.966). Its files are larger, so `large_source_maxrate` caps
    them."""
    large_source_maxrate: str = "3M"
    large_source_bufsize: str = "6M"
    """Peak video bitrate of the cheaper encode and its rate buffer: at most about 1.4 GB for an
    hour of lesson."""
    crf: int = 23
    audio_bitrate: str = "128k"
    remux_variable_frame_rate: bool = False
    """Copy VFR H.264 as it is (fast) instead of re-timing it to a constant rate."""
    truncation_tolerance: float = 0.95
    """Output shorter than this fraction of the declared duration is reported as truncated."""
    timeout: float | None = None
    """Seconds before ffmpeg is stopped; None allows 60 s plus 3 s per second of media."""


@dataclass(frozen=True)
class NormalisePlan:
    container: str
    """"mp4" for video lessons, "m4a" for sound-only ones."""
    include_video: bool
    include_audio: bool
    copy_video: bool
    copy_audio: bool
    width: int
    height: int
    fps: float
    reasons: tuple[str, ...] = ()
    """Why each stream is encoded rather than copied, for logs and the lesson page."""
    preset: str = ""
    """The x264 preset when the video is encoded; empty when it is copied."""
    maxrate: str = ""
    bufsize: str = ""
    """Peak video bitrate of the encode and its buffer, or empty for quality-only (CRF) rate
    control."""

    @property
    def is_remux(self) -> bool:
        video_ok = self.copy_video or not self.include_video
        audio_ok = self.copy_audio or not self.include_audio
        return video_ok and audio_ok


@dataclass(frozen=True)
class NormaliseResult:
    path: Path
    plan: NormalisePlan
    duration: float
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = str(self.path)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NormaliseResult:
        plan = dict(data["plan"])
        plan["reasons"] = tuple(plan.get("reasons", ()))
        return cls(
            path=Path(data["path"]),
            plan=NormalisePlan(**plan),
            duration=float(data["duration"]),
            warnings=tuple(data.get("warnings", ())),
        )


def output_name(probe: ProbeResult) -> str:
    return "lesson.mp4" if probe.has_video else "lesson.m4a"


def fit_size(width: int, height: int, max_width: int, max_height: int) -> tuple[int, int]:
    """Largest even size with `width:height`'s shape inside the box (turned for portrait)."""
    box_w, box_h = (max_width, max_height) if width >= height else (max_height, max_width)
    scale = min(1.0, box_w / max(width, 1), box_h / max(height, 1))
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def _video_reasons(v: VideoStream, probe: ProbeResult, options: NormaliseOptions) -> list[str]:
    reasons = []
    if v.codec != "h264":
        reasons.append(f"video codec {v.codec} is not H.264")
    elif v.profile not in BROWSER_H264_PROFILES or v.pix_fmt != "yuv420p":
        reasons.append(f"H.264 {v.profile} {v.pix_fmt} is not a profile browsers play")
    if not any(name in probe.format_name.split(",") for name in REMUX_CONTAINERS):
        reasons.append(f"container {probe.format_name} does not keep timestamps when copied")
    if v.rotation:
        reasons.append(f"rotated {v.rotation} degrees")
    if fit_size(v.display_width, v.display_height, options.max_width, options.max_height) != (
        v.display_width,
        v.display_height,
    ):
        reasons.append(f"{v.display_width}x{v.display_height} is larger than allowed or odd")
    if v.variable_frame_rate and not options.remux_variable_frame_rate:
        reasons.append("variable frame rate")
    if v.fps > options.max_fps + 0.5:
        reasons.append(f"{v.fps:g} fps is above {options.max_fps:g}")
    return reasons


def plan_normalise(
    probe: ProbeResult, options: NormaliseOptions = NormaliseOptions()
) -> NormalisePlan:
    """Decide per stream whether to copy or encode, and the output size and frame rate."""
    reasons: list[str] = []
    copy_video = copy_audio = False
    width = height = 0
    fps = 0.0
    preset = maxrate = bufsize = ""
    v, a = probe.video, probe.audio
    if v is not None:
        video_reasons = _video_reasons(v, probe, options)
        reasons += video_reasons
        copy_video = not video_reasons
        width, height = fit_size(
            v.display_width, v.display_height, options.max_width, options.max_height
        )
        fps = min(v.fps or 25.0, options.max_fps)
        if not copy_video and (v.variable_frame_rate or v.fps > options.max_fps):
            fps = float(min(round(v.fps or 25.0), options.max_fps))
        if not copy_video:
            large = v.display_width * v.display_height > options.max_width * options.max_height
            preset = options.large_source_preset if large else options.preset
            if large:
                maxrate, bufsize = options.large_source_maxrate, options.large_source_bufsize
    if a is not None:
        if a.codec != "aac" or a.profile not in AAC_PROFILES:
            reasons.append(f"audio codec {' '.join(filter(None, (a.codec, a.profile)))} is not AAC")
        elif a.channels > 2:
            reasons.append(f"{a.channels} audio channels")
        else:
            copy_audio = True
    return NormalisePlan(
        container="mp4" if v is not None else "m4a",
        include_video=v is not None,
        include_audio=a is not None,
        copy_video=copy_video,
        copy_audio=copy_audio,
        width=width,
        height=height,
        fps=round(fps, 3),
        reasons=tuple(reasons),
        preset=preset,
        maxrate=maxrate,
        bufsize=bufsize,
    )


def _video_args(
    plan: NormalisePlan, probe: ProbeResult, options: NormaliseOptions
) -> dict[str, Any]:
    if plan.copy_video:
        return {"c:v": "copy", "tag:v": "avc1"}
    v = probe.video
    assert v is not None  # noqa: S101 - narrows a type the code above guarantees
    gop = max(1, round(options.keyframe_interval * plan.fps))
    args: dict[str, Any] = {
        "c:v": "libx264",
        "preset": plan.preset or options.preset,
        "crf": options.crf,
        "profile:v": "high",
        "pix_fmt": "yuv420p",
        "g": gop,
        "force_key_frames": f"expr:gte(t,n_forced*{options.keyframe_interval:g})",
        "vf": f"scale={plan.width}:{plan.height}:flags=bilinear,setsar=1",
    }
    if plan.maxrate:
        args["maxrate"] = plan.maxrate
        args["bufsize"] = plan.bufsize
    if v.variable_frame_rate or v.fps > options.max_fps + 0.5:
        args["fps_mode"] = "cfr"
        args["r"] = f"{plan.fps:g}"
    return args


def _audio_args(
    plan: NormalisePlan, probe: ProbeResult, options: NormaliseOptions
) -> dict[str, Any]:
    if plan.copy_audio:
        return {"c:a": "copy"}
    a = probe.audio
    assert a is not None  # noqa: S101 - narrows a type the code above guarantees
    args: dict[str, Any] = {
        "c:a": "aac",
        "b:a": options.audio_bitrate,
        "ac": 1 if a.channels == 1 else 2,
    }
    if a.sample_rate not in AAC_SAMPLE_RATES:
        args["ar"] = 48000
    return args


def build_command(
    src: Path, dst: Path, probe: ProbeResult, plan: NormalisePlan, options: NormaliseOptions
) -> list[str]:
    """The ffmpeg argument list that turns `src` into `dst` according to `plan`."""
    inp = ffmpeg.input(str(src))
    streams = []
    kwargs: dict[str, Any] = {"movflags": "+faststart", "map_metadata": -1}
    if plan.include_video:
        streams.append(inp["V:0"])
        kwargs.update(_video_args(plan, probe, options))
    if plan.include_audio:
        streams.append(inp["a:0"])
        kwargs.update(_audio_args(plan, probe, options))
    kwargs["f"] = "mp4" if plan.container == "mp4" else "ipod"
    out = ffmpeg.output(*streams, str(dst), **kwargs)
    out = out.global_args(*global_flags(), "-progress", "pipe:2")
    return list(out.overwrite_output().compile(cmd=ffmpeg_binary()))


def media_duration(path: Path, timeout: float = 60.0) -> float:
    """Duration of a file ffmpeg just wrote (container header only)."""
    args = [ffprobe_binary(), "-v", "error", "-show_entries", "format=duration"]
    out = run_tool([*args, "-of", "json", str(path)], timeout=timeout)
    data = json.loads(out or b"{}")
    return float(data.get("format", {}).get("duration") or 0.0)


def clock(seconds: float) -> str:
    """0:07, 4:10 or 1:02:03, the way a teacher reads a time."""
    whole = math.floor(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def truncation_warning(declared: float, actual: float, tolerance: float) -> str | None:
    if declared <= 0 or actual >= declared * tolerance or declared - actual < 1.0:
        return None
    return f"truncated: readable up to {clock(actual)} of {clock(declared)}"


def normalise(
    src: Path,
    dst: Path,
    probe: ProbeResult,
    options: NormaliseOptions = NormaliseOptions(),
    *,
    on_progress: ProgressCallback | None = None,
) -> NormaliseResult:
    """Write the browser-playable lesson for `src` to `dst` (see `output_name` for its name)."""
    src, dst = Path(src), Path(dst)
    plan = plan_normalise(probe, options)
    timeout = options.timeout or 60.0 + 3.0 * probe.duration
    with atomic_output(dst) as tmp:
        args = build_command(src, tmp, probe, plan, options)
        run_tool(
            args,
            timeout=timeout,
            duration=probe.duration,
            on_progress=on_progress,
            message="ffmpeg could not convert this recording to a playable lesson",
        )
        duration = media_duration(tmp)
        if duration <= 0:
            raise FfmpegError("The recording could not be decoded: no playable media came out.")
    # A delayed first frame counts in the container's duration but is shifted away in the output.
    declared = probe.duration - max(0.0, probe.start_time)
    warning = truncation_warning(declared, duration, options.truncation_tolerance)
    if on_progress:
        on_progress(1.0)
    return NormaliseResult(
        path=dst, plan=plan, duration=round(duration, 3), warnings=(warning,) if warning else ()
    )
