"""Synthetic test media with known ground truth, made with ffmpeg lavfi, espeak-ng and plain bytes.

Every function writes into a path the caller chooses and returns what the file is known to contain
(durations, cut times, speech spans), so tests assert against facts rather than against a previous
run. Defaults are small and short (320x240, a few seconds) to keep suites fast on two cores.

Shared by every package's tests: keep it general and free of pipeline imports.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.tools import global_flags

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"
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


def ffmpeg(*args: str | os.PathLike[str]) -> None:
    """Run ffmpeg quietly, raising with its stderr if it fails."""
    cmd = [FFMPEG, *global_flags(), "-y", *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {' '.join(cmd)}\n{proc.stderr.decode()[-2000:]}")


def ffprobe_json(path: Path, *args: str) -> str:
    cmd = [FFPROBE, "-v", "error", *args, "-of", "json", str(path)]
    return subprocess.run(cmd, capture_output=True, check=True).stdout.decode()


VIDEO_CODEC_ARGS = {
    "h264": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"],
    "hevc": ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error"],
    "mjpeg": ["-c:v", "mjpeg", "-q:v", "5", "-pix_fmt", "yuvj420p"],
    "vp8": ["-c:v", "libvpx", "-deadline", "realtime", "-b:v", "300k"],
    "vp9": ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-b:v", "300k"],
    "mpeg4": ["-c:v", "mpeg4", "-q:v", "5"],
}
AUDIO_CODEC_ARGS = {
    "aac": ["-c:a", "aac", "-b:a", "96k"],
    "mp3": ["-c:a", "libmp3lame", "-b:a", "96k"],
    "opus": ["-c:a", "libopus", "-b:a", "64k"],
    "vorbis": ["-c:a", "libvorbis"],
    "pcm": ["-c:a", "pcm_s16le"],
    "flac": ["-c:a", "flac"],
}


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


def decode_gray_frames(path: Path, size: tuple[int, int] = (320, 240)) -> list[np.ndarray]:
    """Every frame of `path`'s video as grey arrays, in presentation order."""
    w, h = size
    cmd = [FFMPEG, "-v", "error", "-i", str(path), "-map", "0:v:0", "-fps_mode", "passthrough"]
    cmd += ["-vf", f"scale={w}:{h}", "-f", "rawvideo", "-pix_fmt", "gray", "-"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    data = np.frombuffer(raw, dtype=np.uint8)
    return list(data.reshape(-1, h, w))


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


@dataclass(frozen=True)
class SpeechSpan:
    text: str
    start: float
    end: float


def make_speech(
    path: Path,
    phrases: Sequence[str],
    *,
    pause: float = 1.0,
    lead: float = 0.5,
    acodec: str = "pcm",
    voice: str = "en",
    speed: int = 160,
) -> list[SpeechSpan]:
    """espeak-ng speaks each phrase, with `pause` seconds of silence between, after `lead` of it.

    Returns where each phrase lies in the file (including espeak's own short edge silences), so
    tests know where speech and pauses are. The format follows `path`'s suffix.
    """
    spans: list[SpeechSpan] = []
    rate = 22050
    pieces: list[np.ndarray] = [np.zeros(int(lead * rate), dtype=np.int16)]
    t = lead
    with tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate(phrases):
            wav = Path(tmp) / f"{i}.wav"
            subprocess.run(
                ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text],
                check=True,
                capture_output=True,
            )
            with wave.open(str(wav)) as fh:
                rate = fh.getframerate()
                samples = np.frombuffer(fh.readframes(fh.getnframes()), dtype=np.int16)
            pieces.append(samples)
            spans.append(SpeechSpan(text, t, t + len(samples) / rate))
            t += len(samples) / rate
            pieces.append(np.zeros(int(pause * rate), dtype=np.int16))
            t += int(pause * rate) / rate
        joined = Path(tmp) / "speech.wav"
        with wave.open(str(joined), "wb") as fh:
            fh.setnchannels(1)
            fh.setsampwidth(2)
            fh.setframerate(rate)
            fh.writeframes(np.concatenate(pieces).tobytes())
        if path.suffix == ".wav" and acodec == "pcm":
            shutil.copyfile(joined, path)
        else:
            ffmpeg("-i", joined, *AUDIO_CODEC_ARGS[acodec], path)
    return spans


def make_dialogue(
    path: Path, lines: Sequence[tuple[str, str]], silences: Sequence[float], *, speed: int = 160
) -> list[SpeechSpan]:
    """A lesson-like exchange at 16 kHz: each `(voice, text)` line spoken by espeak-ng, trimmed
    of espeak's own edge silence by sox, then exactly `silences[i]` seconds of digital silence
    (sox) before the next line. Returns where each line's sound starts and ends, so the silence
    after line i is `silences[i]` by construction: the truth for wait time."""
    if len(silences) != len(lines) - 1:
        raise ValueError("one silence between each pair of lines")
    spans: list[SpeechSpan] = []
    parts: list[str] = []
    at = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i, (voice, text) in enumerate(lines):
            raw, line = Path(tmp) / f"raw{i}.wav", Path(tmp) / f"line{i}.wav"
            subprocess.run(
                ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text],
                check=True,
                capture_output=True,
            )
            trim = ["silence", "1", "0.02", "0.5%", "reverse"]
            subprocess.run(
                ["sox", str(raw), "-r", "16000", "-c", "1", str(line), *trim, *trim],
                check=True,
                capture_output=True,
            )
            with wave.open(str(line)) as fh:
                length = fh.getnframes() / fh.getframerate()
            spans.append(SpeechSpan(text, round(at, 4), round(at + length, 4)))
            parts.append(str(line))
            at += length
            if i < len(silences):
                gap = Path(tmp) / f"gap{i}.wav"
                subprocess.run(
                    ["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(gap),
                     "trim", "0", f"{silences[i]}"],
                    check=True,
                    capture_output=True,
                )  # fmt: skip
                parts.append(str(gap))
                at += silences[i]
        subprocess.run(["sox", *parts, str(path)], check=True, capture_output=True)
    return spans


def add_video_to_audio(audio: Path, path: Path, *, size: tuple[int, int] = (320, 240)) -> None:
    """A lesson-like file: a test picture for as long as `audio` lasts, its sound as AAC."""
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=s={size[0]}x{size[1]}:r=25", "-i", audio,
        "-map", "0:v", "-map", "1:a", "-shortest", *VIDEO_CODEC_ARGS["h264"],
        *AUDIO_CODEC_ARGS["aac"], path,
    )  # fmt: skip


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


LESSON_RATE = 16_000
"""Rate of assembled lesson audio: Whisper's, so the test and the model see the same samples."""

WHISPERED = (
    r"afftfilt=real='hypot(re\,im)*cos((random(0)*2-1)*3.14)'"
    r":imag='hypot(re\,im)*sin((random(1)*2-1)*3.14)':win_size=512:overlap=0.75"
)
"""Random phase on every FFT bin: the spectrum's shape (the words) stays, the voicing goes."""


def read_samples(path: Path, audio_filter: str | None = None) -> np.ndarray:
    """Decode `path` (through an ffmpeg audio filter, if given) to 16 kHz mono float32."""
    cmd = [FFMPEG, *global_flags(), "-i", str(path)]
    if audio_filter:
        cmd += ["-af", audio_filter]
    cmd += ["-ac", "1", "-ar", str(LESSON_RATE), "-f", "f32le", "-"]
    out = subprocess.run(cmd, check=True, capture_output=True).stdout
    return np.frombuffer(out, dtype=np.float32).copy()


def level_db(samples: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(samples, dtype=np.float64)) + 1e-20))


def hoarse(
    path: Path, *, gain_db: float, voiced: float = 0.1, lowpass_hz: int = 2000
) -> np.ndarray:
    """A recording as a speaker with a heavy cold in another room sounds: breathy (mostly
    whispered, a little voice left), muffled (low-passed) and `gain_db` from its own level."""
    muffle = f"lowpass=f={lowpass_hz},lowpass=f={lowpass_hz}"
    voice = read_samples(path, muffle)
    breath = read_samples(path, f"{WHISPERED},{muffle}")
    n = min(len(voice), len(breath))
    mixed = voiced * voice[:n] + breath[:n]
    target = level_db(read_samples(path)) + gain_db
    return (mixed * 10 ** ((target - level_db(mixed)) / 20)).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, rate: int = LESSON_RATE) -> None:
    """16-bit mono WAV of float samples in [-1, 1] (clipped)."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(rate)
        fh.writeframes(pcm.tobytes())


def voiced_frames(samples: np.ndarray, floor_db: float = -45.0) -> np.ndarray:
    """Per 10 ms of 16 kHz samples: louder than `floor_db` below the loudest 10 ms, smoothed over
    50 ms (the truth of where a clean recording of one voice speaks)."""
    hop = LESSON_RATE // 100
    n = len(samples) // hop
    if n == 0:
        return np.zeros(0, dtype=bool)
    power = np.mean(np.square(samples[: n * hop].reshape(n, hop), dtype=np.float64), axis=1)
    energy = 10 * np.log10(power + 1e-12)
    on = energy > energy.max() + floor_db
    return np.convolve(on.astype(float), np.ones(5), "same") > 0


def trim_silence(samples: np.ndarray, floor_db: float = -45.0) -> np.ndarray:
    """`samples` without the quiet before its first and after its last voiced 10 ms."""
    voiced = np.flatnonzero(voiced_frames(samples, floor_db))
    if voiced.size == 0:
        return samples[:0]
    hop = LESSON_RATE // 100
    return samples[voiced[0] * hop : (voiced[-1] + 1) * hop]


@dataclass(frozen=True)
class Turn:
    speaker: str
    start: float
    end: float


def join_turns(
    turns: Sequence[tuple[str, np.ndarray]], *, gap: float = 0.6, lead: float = 0.5
) -> tuple[np.ndarray, list[Turn]]:
    """Speakers taking turns: each (speaker, 16 kHz samples) after `gap` seconds of silence (and
    `lead` before the first); returns the samples and where each turn lies."""
    pieces = [np.zeros(int(lead * LESSON_RATE), np.float32)]
    spans: list[Turn] = []
    t = lead
    for speaker, samples in turns:
        spans.append(Turn(speaker, t, t + len(samples) / LESSON_RATE))
        pieces += [samples.astype(np.float32), np.zeros(int(gap * LESSON_RATE), np.float32)]
        t += len(samples) / LESSON_RATE + int(gap * LESSON_RATE) / LESSON_RATE
    return np.concatenate(pieces), spans


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
