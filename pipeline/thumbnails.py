"""Poster, sprite sheet and WebVTT thumbnails track, from one cheap pass of the shared frame reader.

When the file has a keyframe at least every tile interval, only keyframes are decoded and the
first of each interval kept; a remuxed source with sparser keyframes (10 s cameras, screen
recorders) is sampled at one picture per interval instead (`pipeline.frames`), so the tiles keep
their spacing whatever the keyframes. (Seeking once per tile was measured too: it decodes from
the keyframe before each tile, which costs more than the one sampled pass as soon as tiles are
closer than about two keyframe gaps; see benchmarks/RESULTS.md.) `showinfo` reports the time each
tile really shows, which the WebVTT cues use. The same small tiles
choose the poster: the liveliest picture (brightness spread, not too dark) in the first part of the
lesson, which avoids the black first frame most cameras record. Only that one frame is decoded
again at full size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import ffmpeg
import numpy as np

from pipeline.captions import vtt_time
from pipeline.errors import FfmpegError, NoVideoError
from pipeline.frames import FrameRequest, read_frames, sampling_rate
from pipeline.probe import ProbeResult
from pipeline.probe import probe as probe_media
from pipeline.tools import ProgressCallback, atomic_output, ffmpeg_binary, global_flags, run_tool

NICE_INTERVALS = (2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 45, 60, 90, 120, 180, 300)


@dataclass(frozen=True)
class ThumbnailOptions:
    tile_width: int = 160
    max_tiles: int = 150
    min_interval: float = 2.0
    """Shortest spacing: closer tiles would hardly differ, and the sprite would only grow."""
    interval: float | None = None
    """Seconds between tiles; None picks the shortest nice interval within `max_tiles`."""
    columns: int = 10
    poster_height: int = 720
    poster_search_fraction: float = 0.3
    """The poster is picked from this first part of the lesson, where the topic is introduced."""
    jpeg_quality: int = 80
    sprite_name: str = "sprite.jpg"
    timeout: float | None = None


@dataclass(frozen=True)
class ThumbnailResult:
    poster: Path
    sprite: Path
    vtt: Path
    poster_time: float
    interval: float
    count: int
    columns: int
    tile_width: int
    tile_height: int

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("poster", "sprite", "vtt"):
            data[key] = str(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ThumbnailResult:
        fields = dict(data)
        for key in ("poster", "sprite", "vtt"):
            fields[key] = Path(fields[key])
        return cls(**fields)


def choose_interval(duration: float, options: ThumbnailOptions) -> float:
    if options.interval:
        return options.interval
    needed = max(options.min_interval, duration / options.max_tiles)
    for nice in NICE_INTERVALS:
        if nice >= needed:
            return float(nice)
    return float(math.ceil(needed))


def tile_size(width: int, height: int, tile_width: int) -> tuple[int, int]:
    return tile_width, max(2, round(tile_width * height / max(width, 1) / 2) * 2)


def thumbnail_cues(
    starts: Sequence[float],
    duration: float,
    columns: int,
    tile: tuple[int, int],
    sprite_name: str = "sprite.jpg",
) -> str:
    """The WebVTT track: cue i runs from tile i's time to the next and points at tile i.

    The first cue starts at 0 and the last ends at `duration`, so scrubbing anywhere shows a tile.
    """
    w, h = tile
    lines = ["WEBVTT", ""]
    for i, shown in enumerate(starts):
        start = 0.0 if i == 0 else shown
        end = duration if i == len(starts) - 1 else starts[i + 1]
        if start >= duration or end <= start:
            continue
        x, y = (i % columns) * w, (i // columns) * h
        lines += [f"{vtt_time(round(start * 1000))} --> {vtt_time(round(end * 1000))}"]
        lines += [f"{sprite_name}#xywh={x},{y},{w},{h}", ""]
    return "\n".join(lines)


def liveliness(tile: np.ndarray) -> float:
    """How much a tile shows: brightness spread, with dark or washed-out frames scoring zero."""
    grey = tile.mean(axis=2)
    mean = float(grey.mean())
    if mean < 24 or mean > 240:
        return 0.0
    return float(grey.std())


def pick_poster(tiles: np.ndarray, fraction: float) -> int:
    """Index of the liveliest tile within the first `fraction` of them (at least one)."""
    window = max(1, math.ceil(len(tiles) * fraction))
    scores = [liveliness(t) for t in tiles[:window]]
    return int(np.argmax(scores))


def compose_sprite(tiles: np.ndarray, columns: int) -> np.ndarray:
    count, h, w, c = tiles.shape
    rows = math.ceil(count / columns)
    sheet = np.zeros((rows * h, min(count, columns) * w, c), dtype=np.uint8)
    for i, tile in enumerate(tiles):
        y, x = (i // columns) * h, (i % columns) * w
        sheet[y : y + h, x : x + w] = tile
    return sheet


def build_poster_command(src: Path, dst: Path, at: float, height: int, quality: int) -> list[str]:
    qscale = max(2, min(31, round(31 - quality * 0.29)))
    inp = ffmpeg.input(str(src), ss=f"{at:.3f}")
    video = inp["V:0"].filter("scale", -2, f"min({height},ih)")
    out = ffmpeg.output(video, str(dst), vframes=1, **{"q:v": qscale, "f": "image2"})
    out = out.global_args(*global_flags())
    return list(out.overwrite_output().compile(cmd=ffmpeg_binary()))


def _write_jpeg(path: Path, image: np.ndarray, quality: int) -> None:
    import cv2  # the web process never imports OpenCV; only media workers reach this

    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise FfmpegError("The thumbnail sprite could not be encoded as JPEG.")
    with atomic_output(path) as tmp:
        tmp.write_bytes(data.tobytes())


def make_thumbnails(
    src: Path,
    out_dir: Path,
    options: ThumbnailOptions = ThumbnailOptions(),
    *,
    probe: ProbeResult | None = None,
    on_progress: ProgressCallback | None = None,
) -> ThumbnailResult:
    """Write poster.jpg, the sprite and thumbnails.vtt for a (normalised) video into `out_dir`.

    `probe` saves a second look at the file when the caller already has one.
    """
    probe = probe if probe is not None else probe_media(Path(src))
    if probe.video is None:
        raise NoVideoError("The recording has no pictures, so it has no thumbnails.")
    src, out_dir = Path(src), Path(out_dir)
    v = probe.video
    interval = choose_interval(probe.duration, options)
    tile = tile_size(v.display_width, v.display_height, options.tile_width)
    timeout = options.timeout or 60.0 + 0.5 * probe.duration
    rate = sampling_rate(v, interval, 1.0 / interval)
    read = read_frames(
        src,
        FrameRequest(tile[0], tile[1], rate, min_gap=interval),
        duration=probe.duration,
        timeout=timeout,
        on_progress=(lambda f: on_progress(0.9 * f)) if on_progress else None,
        message="ffmpeg could not read pictures for the thumbnails",
        empty_message="No pictures could be decoded for the thumbnails.",
    )
    times, tiles = read.times, read.pixels
    count = len(times)
    out_dir.mkdir(parents=True, exist_ok=True)
    sprite = out_dir / options.sprite_name
    _write_jpeg(sprite, compose_sprite(tiles, options.columns), options.jpeg_quality)
    vtt = out_dir / "thumbnails.vtt"
    cues = thumbnail_cues(times[:count], probe.duration, options.columns, tile, sprite.name)
    with atomic_output(vtt) as tmp:
        tmp.write_text(cues, encoding="utf-8")
    index = pick_poster(tiles, options.poster_search_fraction)
    poster_time = min(times[index], max(0.0, probe.duration - 0.1))
    poster = out_dir / "poster.jpg"
    with atomic_output(poster) as tmp:
        cmd = build_poster_command(src, tmp, poster_time, options.poster_height, 80)
        run_tool(cmd, timeout=timeout, message="ffmpeg could not write the poster frame")
    if on_progress:
        on_progress(1.0)
    return ThumbnailResult(
        poster, sprite, vtt, poster_time, interval, count, options.columns, tile[0], tile[1]
    )
