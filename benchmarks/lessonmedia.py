"""Synthetic lesson media with known truth, shared by the tests and the benchmarks.

Speech read and written as 16 kHz samples, voices made hoarse, turns joined with known times,
an espeak-ng dialogue with exact silences, frames decoded to grey arrays. The benchmarks build
their hour-long lessons from these and the tests (tests/mediafactory.py re-exports them) their
short ones, so both measure against the same construction; it lives here, outside tests/,
because nothing under benchmarks/ may import the test suite.
"""

from __future__ import annotations

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


def ffmpeg(*args: str | os.PathLike[str]) -> None:
    """Run ffmpeg quietly, raising with its stderr if it fails."""
    cmd = [FFMPEG, *global_flags(), "-y", *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {' '.join(cmd)}\n{proc.stderr.decode()[-2000:]}")


def decode_gray_frames(path: Path, size: tuple[int, int] = (320, 240)) -> list[np.ndarray]:
    """Every frame of `path`'s video as grey arrays, in presentation order."""
    w, h = size
    cmd = [FFMPEG, "-v", "error", "-i", str(path), "-map", "0:v:0", "-fps_mode", "passthrough"]
    cmd += ["-vf", f"scale={w}:{h}", "-f", "rawvideo", "-pix_fmt", "gray", "-"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    data = np.frombuffer(raw, dtype=np.uint8)
    return list(data.reshape(-1, h, w))


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
    return np.asarray(mixed * 10 ** ((target - level_db(mixed)) / 20), dtype=np.float32)


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


def add_video_to_audio(audio: Path, path: Path, *, size: tuple[int, int] = (320, 240)) -> None:
    """A lesson-like file: a test picture for as long as `audio` lasts, its sound as AAC."""
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=s={size[0]}x{size[1]}:r=25", "-i", audio,
        "-map", "0:v", "-map", "1:a", "-shortest", *VIDEO_CODEC_ARGS["h264"],
        *AUDIO_CODEC_ARGS["aac"], path,
    )  # fmt: skip
