"""The speech model's input: 16 kHz mono 16-bit PCM WAV, read from the audio stream alone.

`-vn` keeps ffmpeg from touching the video, so an hour of 1080p costs about what its sound does.
"""

from __future__ import annotations

import wave
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import ffmpeg

from pipeline.errors import NoAudioError, UnreadableMediaError
from pipeline.probe import ProbeResult
from pipeline.probe import probe as probe_media
from pipeline.tools import ProgressCallback, atomic_output, ffmpeg_binary, global_flags, run_tool


@dataclass(frozen=True)
class AudioOptions:
    sample_rate: int = 16000
    timeout: float | None = None
    """Seconds before ffmpeg is stopped; None allows 60 s plus 0.5 s per second of media."""


@dataclass(frozen=True)
class AudioResult:
    path: Path
    duration: float
    sample_rate: int

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = str(self.path)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AudioResult:
        return cls(Path(data["path"]), float(data["duration"]), int(data["sample_rate"]))


def build_command(src: Path, dst: Path, options: AudioOptions) -> list[str]:
    inp = ffmpeg.input(str(src))
    out = ffmpeg.output(
        inp["a:0"], str(dst), vn=None, ac=1, ar=options.sample_rate, acodec="pcm_s16le", f="wav"
    )
    out = out.global_args(*global_flags(), "-progress", "pipe:2")
    return list(out.overwrite_output().compile(cmd=ffmpeg_binary()))


def wav_duration(path: Path) -> float:
    with wave.open(str(path)) as fh:
        frames: int = fh.getnframes()
        return frames / float(fh.getframerate())


def extract_audio(
    src: Path,
    dst: Path,
    options: AudioOptions = AudioOptions(),
    *,
    probe: ProbeResult | None = None,
    on_progress: ProgressCallback | None = None,
) -> AudioResult:
    """Write `src`'s first audio stream to `dst` as 16 kHz mono WAV, or raise `NoAudioError`."""
    src, dst = Path(src), Path(dst)
    info = probe if probe is not None else probe_media(src)
    if not info.has_audio:
        raise NoAudioError("The recording has no sound, so there is nothing to transcribe.")
    with atomic_output(dst) as tmp:
        run_tool(
            build_command(src, tmp, options),
            timeout=options.timeout or 60.0 + 0.5 * info.duration,
            duration=info.duration,
            on_progress=on_progress,
            error=UnreadableMediaError,
            message="The recording's sound could not be read",
        )
        duration = wav_duration(tmp)
    if on_progress:
        on_progress(1.0)
    return AudioResult(dst, round(duration, 3), options.sample_rate)
