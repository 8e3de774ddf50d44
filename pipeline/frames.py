"""Small pictures of a video at chosen times, from one cheap ffmpeg pass: the frame reader that
scene scores and thumbnails share.

Two ways to choose the frames, picked per file from its keyframe spacing (`sampling_rate`):

- keyframes only (`-skip_frame nokey`): the decoder skips everything else, so an hour of video
  costs seconds. Good enough when keyframes come at least as often as the pictures are wanted.
- a fixed rate (`select` by time slot): needed when keyframes are sparse (cameras writing
  one every 10 s, screen recorders one every 30 s or more, none at scene changes). Every
  reference frame must be decoded, but B-frames are skipped (`-skip_frame bidir`: no other
  frame x264 or a camera writes needs them in practice) and in-loop deblocking is off, which
  roughly halves the decode of a typical long-GOP camera file; the first decoded picture of
  each slot is kept, at most a B-frame run (a few frames) after the time asked for.

`showinfo` reports the time of each picture kept, so callers place pictures by their real times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import ffmpeg
import numpy as np

from pipeline.errors import FfmpegError
from pipeline.probe import VideoStream
from pipeline.tools import ProgressCallback, ffmpeg_binary, global_flags, run_tool

PTS_TIME = re.compile(r"\bpts_time:\s*(-?[0-9.]+)")


@dataclass(frozen=True)
class FrameRequest:
    width: int
    height: int
    rate: float | None
    """Pictures per second (the first decoded one in each 1/rate slot), or None for keyframes
    only (see `sampling_rate`)."""
    min_gap: float | None = None
    """With keyframes only: keep one only if it is this many seconds after the last one kept."""


@dataclass(frozen=True)
class Frames:
    times: list[float]
    """Presentation time of each picture, in seconds, rounded to the millisecond."""
    pixels: np.ndarray
    """count x height x width x 3, BGR, as OpenCV wants it."""


def sampling_rate(video: VideoStream, wanted_every: float, rate: float) -> float | None:
    """None (keyframes suffice) when keyframes are at most `wanted_every` s apart, else `rate`.

    A file whose keyframe spacing the probe could not measure is sampled, to be safe.
    """
    gap = video.max_keyframe_interval
    slack = 1.0 / video.fps if video.fps else 0.05
    if gap is not None and gap <= wanted_every + slack:
        return None
    return rate


def build_command(src: Path, request: FrameRequest) -> list[str]:
    if request.rate is None:
        inp = ffmpeg.input(str(src), skip_frame="nokey", skip_loop_filter="all")
        video = inp["V:0"]
        if request.min_gap:
            gap = f"{request.min_gap - 0.01:.3f}"
            video = video.filter("select", f"isnan(prev_selected_t)+gte(t-prev_selected_t,{gap})")
    else:
        # The first decoded picture in each 1/rate slot, shown at its own time.
        inp = ffmpeg.input(str(src), skip_frame="bidir", skip_loop_filter="all")
        rate = f"{request.rate:g}"
        slot = f"gte(floor(t*{rate}),floor(prev_selected_t*{rate})+1)"
        video = inp["V:0"].filter("select", f"isnan(prev_selected_t)+{slot}")
    video = video.filter("showinfo")
    video = video.filter("scale", request.width, request.height, flags="bilinear")
    out = ffmpeg.output(video, "pipe:", f="rawvideo", pix_fmt="bgr24", fps_mode="passthrough")
    out = out.global_args(*global_flags("info"), "-progress", "pipe:2")
    return list(out.compile(cmd=ffmpeg_binary()))


def read_frames(
    src: Path,
    request: FrameRequest,
    *,
    duration: float,
    timeout: float,
    message: str,
    empty_message: str,
    on_progress: ProgressCallback | None = None,
) -> Frames:
    """The pictures `request` asks for. FfmpegError carries `message` when ffmpeg fails and
    `empty_message` when it runs but no picture comes out."""
    times: list[float] = []

    def collect(line: str) -> None:
        if "Parsed_showinfo" in line and (match := PTS_TIME.search(line)):
            times.append(float(match.group(1)))

    raw = run_tool(
        build_command(Path(src), request),
        timeout=timeout,
        duration=duration,
        on_progress=on_progress,
        on_line=collect,
        message=message,
    )
    size = request.width * request.height * 3
    count = min(len(raw) // size, len(times))
    if count == 0:
        raise FfmpegError(empty_message)
    pixels = np.frombuffer(raw[: count * size], dtype=np.uint8).reshape(
        count, request.height, request.width, 3
    )
    return Frames([round(t, 3) for t in times[:count]], pixels)
