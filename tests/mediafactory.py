"""Synthetic test media with known ground truth, made with ffmpeg lavfi, espeak-ng and plain bytes.

Every function writes into a path the caller chooses and returns what the file is known to contain
(durations, cut times, speech spans), so tests assert against facts rather than against a previous
run. Defaults are small and short (320x240, a few seconds) to keep suites fast on two cores.

Shared by every package's tests: keep it general and free of pipeline imports. What the
benchmarks need too (lesson audio, dialogue, frame decoding) is benchmarks/lessonmedia.py's,
re-exported here, so each is written once and benchmarks/ never imports tests/.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.lessonmedia import (  # noqa: F401 - re-exported: the tests' media come from there
    AUDIO_CODEC_ARGS,
    FFMPEG,
    LESSON_RATE,
    VIDEO_CODEC_ARGS,
    WHISPERED,
    SpeechSpan,
    Turn,
    add_video_to_audio,
    decode_gray_frames,
    ffmpeg,
    hoarse,
    join_turns,
    level_db,
    make_dialogue,
    make_speech,
    read_samples,
    trim_silence,
    voiced_frames,
    write_wav,
)

FFPROBE = shutil.which("ffprobe") or "ffprobe"

SCENE_SOURCES = (
    "testsrc2=s={w}x{h}:r={fps}",
    "mandelbrot=s={w}x{h}:r={fps}",
    "smptebars=s={w}x{h}:r={fps}",
    "cellauto=s={w}x{h}:r={fps}:rule=110",
    "rgbtestsrc=s={w}x{h}:r={fps}",
    "life=s={w}x{h}:r={fps}:mold=10:life_color=#00ff00:death_color=#aa0000",
)
"""Textured scene pictures in order (encoders only mark cuts between detailed pictures);
neighbours differ strongly in colour and layout."""

COUNTER_BITS = 10


def ffprobe_json(path: Path, *args: str) -> str:
    cmd = [FFPROBE, "-v", "error", *args, "-of", "json", str(path)]
    return subprocess.run(cmd, capture_output=True, check=True).stdout.decode()


@dataclass(frozen=True)
class VideoSpec:
    """What `make_video` wrote: the ground truth a test compares against."""

    path: Path
    duration: float
    width: int
    height: int
    fps: float
    has_audio: bool
    cut_times: tuple[float, ...] = ()


def make_video(
    path: Path,
    *,
    duration: float = 3.0,
    size: tuple[int, int] = (320, 240),
    fps: float = 25,
    vcodec: str = "h264",
    acodec: str | None = "aac",
    audio: str = "tone",
    gop: int | None = None,
    rotation: int = 0,
    cut_times: Sequence[float] = (),
    black_lead: float = 0.0,
    extra: Sequence[str] = (),
) -> VideoSpec:
    """A test picture (with hard cuts at `cut_times`) and a tone, silence or no audio.

    The container follows `path`'s suffix. `rotation` (clockwise degrees) is stored as display
    metadata the way phones do, leaving the coded picture landscape. `audio` is "tone" or "silence";
    `acodec=None` writes no audio stream at all. `black_lead` seconds of black open the picture,
    like a camera that starts recording before the lens cap is off.
    """
    w, h = size
    inputs: list[str] = []
    bounds = [0.0, *([black_lead] if black_lead else []), *cut_times, duration]
    scenes = [(a, b) for a, b in itertools.pairwise(bounds) if b > a]
    for i, (a, b) in enumerate(scenes):
        src = SCENE_SOURCES[i % len(SCENE_SOURCES)].format(w=w, h=h, fps=fps)
        if i == 0 and black_lead:
            src = f"color=c=black:s={w}x{h}:r={fps}"
        inputs += ["-f", "lavfi", "-t", f"{b - a:.6f}", "-i", src]
    filters = "".join(f"[{i}:v]" for i in range(len(scenes)))
    graph = f"{filters}concat=n={len(scenes)}:v=1:a=0,format=yuv420p[v]"
    maps = ["-map", "[v]"]
    if acodec is not None:
        source = "sine=frequency=440:sample_rate=48000" if audio == "tone" else "anullsrc=r=48000"
        inputs += ["-f", "lavfi", "-t", f"{duration:.6f}", "-i", source]
        maps += ["-map", f"{len(scenes)}:a", *AUDIO_CODEC_ARGS[acodec]]
    codec = list(VIDEO_CODEC_ARGS[vcodec])
    if gop is not None:
        codec += ["-g", str(gop)]
    target = path if not rotation else path.with_name(f".unrotated.{path.name}")
    ffmpeg(*inputs, "-filter_complex", graph, *maps, *codec, *extra, target)
    if rotation:
        # ffmpeg 5.1 writes this tag as a counter-clockwise display matrix angle.
        tag = (360 - rotation) % 360
        ffmpeg("-i", target, "-c", "copy", "-metadata:s:v:0", f"rotate={tag}", path)
        target.unlink()
    return VideoSpec(path, duration, w, h, fps, acodec is not None, tuple(cut_times))


def make_vfr_video(
    path: Path, *, fast_seconds: float = 1.5, slow_seconds: float = 1.5
) -> VideoSpec:
    """Phone-style variable frame rate: 30 fps, then 15 fps, with a tone across the whole time."""
    fast_frames = round(fast_seconds * 30)
    frames = fast_frames + round(slow_seconds * 15)
    duration = fast_seconds + slow_seconds
    pts = f"if(lt(N,{fast_frames}),N/30,{fast_seconds}+(N-{fast_frames})/15)/TB"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=320x240:r=30",
        "-f", "lavfi", "-t", f"{duration}", "-i", "sine=frequency=440:sample_rate=48000",
        "-filter_complex", f"[0:v]trim=end_frame={frames},setpts='{pts}'[v]",
        "-map", "[v]", "-map", "1:a", "-fps_mode", "passthrough",
        *VIDEO_CODEC_ARGS["h264"], *AUDIO_CODEC_ARGS["aac"], "-video_track_timescale", "90000",
        path,
    )  # fmt: skip
    return VideoSpec(path, duration, 320, 240, frames / duration, True)


def make_counter_video(
    path: Path,
    *,
    frames: int = 100,
    fps: float = 25,
    gop: int = 25,
    size: tuple[int, int] = (320, 240),
    open_gop: bool = False,
    keyframes_at: Sequence[float] | None = None,
) -> VideoSpec:
    """Each frame shows its own number (from 0) as `COUNTER_BITS` black/white bars, left = bit 0.

    `read_counter` recovers the number from a decoded frame, so clip tests can check the exact
    first and last frame without OCR. Keyframes every `gop` frames, no scene-cut keyframes.
    `open_gop` makes them non-IDR I-frames whose leading B-frames refer back across them, as
    many cameras and phones write. `keyframes_at` (seconds) puts keyframes there and nowhere
    else after the first, like an encoder that starts a group only at scene changes.
    """
    w, h = size
    bframes = ["-bf", "2"]
    if open_gop:
        bframes = ["-bf", "3", "-x264-params", "open-gop=1:b-adapt=0"]
    if keyframes_at is not None:
        gop = 100_000
        bframes += ["-force_key_frames", ",".join(f"{t:g}" for t in keyframes_at)]
    expr = f"if(mod(floor(N/pow(2,floor(X*{COUNTER_BITS}/W))),2),235,16)"
    ffmpeg(
        "-f", "lavfi", "-i", f"nullsrc=s={w}x{h}:r={fps}",
        "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000",
        "-filter_complex", f"[0:v]trim=end_frame={frames},geq=lum='{expr}':cb=128:cr=128[v]",
        "-map", "[v]", "-map", "1:a", "-t", f"{frames / fps:.6f}",
        *VIDEO_CODEC_ARGS["h264"], "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0",
        *bframes, *AUDIO_CODEC_ARGS["aac"], path,
    )  # fmt: skip
    return VideoSpec(path, frames / fps, w, h, fps, True)


def read_counter(gray: np.ndarray) -> int:
    """The frame number a `make_counter_video` frame (as a 2-D grey array) shows."""
    h, w = gray.shape
    row = gray[h // 4 : 3 * h // 4].mean(axis=0)
    value = 0
    for bit in range(COUNTER_BITS):
        band = row[int((bit + 0.25) * w / COUNTER_BITS) : int((bit + 0.75) * w / COUNTER_BITS)]
        if band.mean() > 128:
            value |= 1 << bit
    return value


def make_tone(
    path: Path, *, duration: float = 3.0, acodec: str = "aac", channels: int = 1
) -> float:
    """An audio-only recording of a 440 Hz tone; returns its duration."""
    ffmpeg(
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={duration}",
        "-ac", str(channels), *AUDIO_CODEC_ARGS[acodec], path,
    )  # fmt: skip
    return duration


def make_silence(path: Path, *, duration: float = 3.0, acodec: str = "pcm") -> float:
    """Digital silence; for video with silent sound use `make_video(audio="silence")`."""
    ffmpeg(
        "-f", "lavfi", "-t", f"{duration}", "-i", "anullsrc=r=16000:cl=mono",
        *AUDIO_CODEC_ARGS[acodec], path,
    )  # fmt: skip
    return duration


def make_image(path: Path) -> None:
    """One still picture: PNG when `path` ends in .png, JPEG otherwise (whatever the suffix)."""
    codec = "png" if path.suffix == ".png" else "mjpeg"
    ffmpeg("-f", "lavfi", "-i", "testsrc=s=320x240", "-frames:v", "1", "-c:v", codec,
           "-update", "1", "-f", "image2", path)  # fmt: skip


def write_text(path: Path) -> None:
    path.write_text("Lesson plan\nStarter: ratios.\nMain: worked examples.\n", encoding="utf-8")


def write_pdf(path: Path) -> None:
    path.write_bytes(
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def write_random(path: Path, size: int = 64 * 1024, seed: int = 7) -> None:
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes())


def truncate_copy(src: Path, dst: Path, fraction: float) -> None:
    """The first `fraction` of `src`'s bytes, like an upload or recording that stopped part-way."""
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])


FACES_PAN_PIXELS_PER_SECOND = 40
FACES_CROP = (640, 448, 40)
"""Width, height and top of the window panned across faces/city.jpg by `make_faces_video`."""


def make_faces_video(path: Path, image: Path, *, duration: float = 4.0, fps: int = 25) -> Path:
    """Real faces that move: a 640x448 window panning right across a street photo at 40 px/s,
    with a tone. At time t a face at (x, y) in the photo is at (x - 40 t, y - 40) in the frame."""
    w, h, top = FACES_CROP
    speed = FACES_PAN_PIXELS_PER_SECOND
    ffmpeg(
        "-loop", "1", "-framerate", str(fps), "-i", image,
        "-f", "lavfi", "-i", f"sine=frequency=330:sample_rate=48000:duration={duration}",
        "-t", f"{duration}",
        "-vf", f"crop={w}:{h}:x='{speed}*t':y={top},format=yuv420p",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-g", str(fps), "-r", str(fps),
        "-c:a", "aac", "-b:a", "96k", "-shortest", "-movflags", "+faststart", path,
    )  # fmt: skip
    return path


def frame_lumas(path: Path) -> list[tuple[float, float]]:
    """(time, mean luma) of every decoded frame."""
    import av

    out = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            luma = frame.to_ndarray(format="gray").astype(np.float64)
            out.append((float(frame.time or 0.0), float(luma.mean())))
    return out


def loudness(path: Path, windows: list[tuple[float, float]]) -> list[float]:
    """RMS of the sound in each (start, end) window."""
    import av

    chunks: list[np.ndarray] = []
    rate = 0
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.rate or 48000
        start = None
        for frame in container.decode(audio=0):
            if start is None:
                start = float(frame.time or 0.0)
            chunks.append(frame.to_ndarray().astype(np.float64).mean(axis=0))
    samples = np.concatenate(chunks)
    offset = start or 0.0
    return [
        float(np.sqrt(np.mean(samples[int((a - offset) * rate) : int((b - offset) * rate)] ** 2)))
        for a, b in windows
    ]
