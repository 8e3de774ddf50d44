"""Scene-change scores with OpenCV over frames ffmpeg decodes cheaply.

Frames come from the shared reader (`pipeline.frames`), scaled to a few dozen pixels. When the
file has a keyframe at least every `max_keyframe_gap` seconds only keyframes are decoded, a small
fraction of a full decode. Sources remuxed as they are often have keyframes 10 s or more apart
and none at scene changes, so there frames are sampled at `sample_fps` instead: a scene change is
then found within 1 / `sample_fps` seconds whatever the keyframe spacing.

The per-frame metrics are pure functions of two small images, so they are tested without video.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import NoVideoError
from pipeline.frames import FrameRequest, read_frames, sampling_rate
from pipeline.probe import ProbeResult
from pipeline.probe import probe as probe_media
from pipeline.tools import ProgressCallback


@dataclass(frozen=True)
class SceneOptions:
    threshold: float = 0.35
    """Score (0..1) at or above which a frame starts a new scene."""
    min_scene_length: float = 1.0
    black_level: float = 20.0
    """Mean brightness (0..255) below which a frame counts as black, for fades."""
    sample_fps: float = 4.0
    """Frames per second scored when keyframes are further apart than `max_keyframe_gap`."""
    max_keyframe_gap: float = 1.0
    """Keyframes at most this far apart are scored alone (cheap); 0 always samples."""
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
    rate = sampling_rate(info.video, options.max_keyframe_gap, options.sample_fps)
    read = read_frames(
        Path(src),
        FrameRequest(options.width, options.height, rate),
        duration=info.duration,
        timeout=options.timeout or 60.0 + 0.5 * info.duration,
        on_progress=on_progress,
        message="ffmpeg could not read pictures for scene detection",
        empty_message="No pictures could be decoded for scene detection.",
    )
    times, frames = read.times, read.pixels
    count = len(times)
    scores = [0.0] + [frame_score(frames[i - 1], frames[i]) for i in range(1, count)]
    levels = [brightness(f) for f in frames]
    cuts = hard_cuts(times, scores, levels, options)
    cuts += fade_cuts(times, levels, options.black_level)
    sampling = f"fps={rate:g}" if rate else "keyframes"
    return SceneResult(
        times=tuple(times),
        scores=tuple(round(s, 4) for s in scores),
        cuts=tuple(merge_cuts(cuts, options.min_scene_length)),
        threshold=options.threshold,
        sampling=sampling,
    )
