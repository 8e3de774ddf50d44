"""Scene-change scores with OpenCV over frames ffmpeg decodes cheaply.

By default only keyframes are decoded (`-skip_frame nokey`, no deblocking) and scaled to a few
dozen pixels: x264 puts a keyframe at every hard cut and normalised lessons have one at least every
2 s, so cuts are found at the keyframe that starts them for a small fraction of a full decode.
Gradual fades to black can fall between keyframes; `sample_fps` decodes evenly spaced frames
instead, at the cost of decoding everything.

The per-frame metrics are pure functions of two small images, so they are tested without video.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import ffmpeg
import numpy as np

from pipeline.errors import FfmpegError, NoVideoError
from pipeline.probe import ProbeResult
from pipeline.probe import probe as probe_media
from pipeline.tools import ProgressCallback, ffmpeg_binary, run_tool

PTS_TIME = re.compile(r"\bpts_time:\s*(-?[0-9.]+)")


@dataclass(frozen=True)
class SceneOptions:
    threshold: float = 0.35
    """Score (0..1) at or above which a frame starts a new scene."""
    min_scene_length: float = 1.0
    black_level: float = 20.0
    """Mean brightness (0..255) below which a frame counts as black, for fades."""
    sample_fps: float | None = None
    """None decodes keyframes only; a rate decodes every frame and samples it evenly."""
    width: int = 64
    height: int = 36
    timeout: float | None = None


@dataclass(frozen=True)
class SceneResult:
    times: tuple[float, ...]
    scores: tuple[float, ...]
    cuts: tuple[float, ...]
    """Times where a new scene starts (hard cuts and the middle of each black stretch)."""
    threshold: float
    sampling: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SceneResult:
        return cls(
            times=tuple(float(t) for t in data.get("times", ())),
            scores=tuple(float(s) for s in data.get("scores", ())),
            cuts=tuple(float(c) for c in data.get("cuts", ())),
            threshold=float(data.get("threshold", 0.0)),
            sampling=str(data.get("sampling", "")),
        )


def histogram_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Bhattacharyya distance (0 same, 1 disjoint) of hue-saturation histograms of BGR images.

    Brightness is left out on purpose: a fade or a light switched on is not a new scene.
    """
    import cv2  # only media workers import OpenCV

    hists = []
    for image in (a, b):
        hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
        hist = cv2.calcHist([hsv], [0, 1], None, [18, 8], [0, 180, 0, 256])
        hists.append(cv2.normalize(hist, hist).flatten())
    return float(cv2.compareHist(hists[0], hists[1], cv2.HISTCMP_BHATTACHARYYA))


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute grey-level difference of two BGR images, 0..1."""
    import cv2

    grey_a = cv2.cvtColor(a, cv2.COLOR_BGR2GRAY)
    grey_b = cv2.cvtColor(b, cv2.COLOR_BGR2GRAY)
    return float(cv2.absdiff(grey_a, grey_b).mean()) / 255.0


def frame_score(a: np.ndarray, b: np.ndarray) -> float:
    """How strongly `b` looks like a new scene after `a`: colour change and picture change agree."""
    return 0.5 * histogram_distance(a, b) + 0.5 * min(1.0, 2.0 * mean_abs_diff(a, b))


def brightness(image: np.ndarray) -> float:
    return float(image.mean())


def hard_cuts(
    times: list[float],
    scores: list[float],
    levels: list[float],
    options: SceneOptions,
) -> list[float]:
    """Frames scoring at least the threshold, apart from near-black ones.

    Colours of a nearly black picture are noise, so changes next to black are left to `fade_cuts`.
    """
    cuts: list[float] = []
    last = times[0] if times else 0.0
    dim = 2 * options.black_level
    for i, (t, score) in enumerate(zip(times, scores, strict=True)):
        if i and min(levels[i - 1], levels[i]) < dim:
            continue
        if score >= options.threshold and t - last >= options.min_scene_length:
            cuts.append(t)
            last = t
    return cuts


def fade_cuts(times: list[float], levels: list[float], black_level: float) -> list[float]:
    """The middle of every black stretch that has picture on both sides."""
    cuts: list[float] = []
    run_start: int | None = None
    for i, level in enumerate(levels):
        if level < black_level:
            if run_start is None:
                run_start = i
        elif run_start is not None:
            if run_start > 0:
                cuts.append(round((times[run_start] + times[i - 1]) / 2, 3))
            run_start = None
    return cuts


def merge_cuts(cuts: list[float], min_gap: float) -> list[float]:
    merged: list[float] = []
    for t in sorted(cuts):
        if not merged or t - merged[-1] >= min_gap:
            merged.append(t)
    return merged


def build_command(src: Path, options: SceneOptions) -> list[str]:
    if options.sample_fps:
        inp = ffmpeg.input(str(src), skip_loop_filter="all")
        video = inp["V:0"].filter("fps", fps=f"{options.sample_fps:g}")
    else:
        inp = ffmpeg.input(str(src), skip_frame="nokey", skip_loop_filter="all")
        video = inp["V:0"]
    video = video.filter("showinfo").filter("scale", options.width, options.height)
    out = ffmpeg.output(video, "pipe:", f="rawvideo", pix_fmt="bgr24", fps_mode="passthrough")
    out = out.global_args("-hide_banner", "-nostdin", "-v", "info", "-progress", "pipe:2")
    return list(out.compile(cmd=ffmpeg_binary()))


def scene_scores(
    src: Path,
    options: SceneOptions = SceneOptions(),
    *,
    probe: ProbeResult | None = None,
    on_progress: ProgressCallback | None = None,
) -> SceneResult:
    """Score every sampled frame against the one before and list where scenes start."""
    info = probe if probe is not None else probe_media(Path(src))
    if info.video is None:
        raise NoVideoError("The recording has no pictures, so it has no scenes.")
    times: list[float] = []

    def collect(line: str) -> None:
        if "Parsed_showinfo" in line and (match := PTS_TIME.search(line)):
            times.append(float(match.group(1)))

    raw = run_tool(
        build_command(Path(src), options),
        timeout=options.timeout or 60.0 + 0.5 * info.duration,
        duration=info.duration,
        on_progress=on_progress,
        on_line=collect,
        message="ffmpeg could not read pictures for scene detection",
    )
    size = options.width * options.height * 3
    count = min(len(raw) // size, len(times))
    if count == 0:
        raise FfmpegError("No pictures could be decoded for scene detection.")
    frames = np.frombuffer(raw[: count * size], dtype=np.uint8).reshape(
        count, options.height, options.width, 3
    )
    times = [round(t, 3) for t in times[:count]]
    scores = [0.0] + [frame_score(frames[i - 1], frames[i]) for i in range(1, count)]
    levels = [brightness(f) for f in frames]
    cuts = hard_cuts(times, scores, levels, options)
    cuts += fade_cuts(times, levels, options.black_level)
    sampling = f"fps={options.sample_fps:g}" if options.sample_fps else "keyframes"
    return SceneResult(
        times=tuple(times),
        scores=tuple(round(s, 4) for s in scores),
        cuts=tuple(merge_cuts(cuts, options.min_scene_length)),
        threshold=options.threshold,
        sampling=sampling,
    )
