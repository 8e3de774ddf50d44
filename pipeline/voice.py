"""Where a recording holds speech: voice-activity regions for the talk analytics.

Whisper's word times are good at word starts but stretch a phrase's last word over the silence
after it (by a second or more), and wait time is exactly that silence. Silero VAD (shipped inside
faster-whisper, so nothing new to install) finds the edges of speech to a few hundredths of a
second; `pipeline.analytics` clips the words to these regions. Tighter than the VAD transcription
uses (which pads speech by 600 ms so no word is cut): here the edges themselves are the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import TranscriptionError
from pipeline.transcribe import SAMPLE_RATE, decode_audio


@dataclass(frozen=True)
class VoiceOptions:
    threshold: float = 0.5
    min_silence_ms: int = 250
    """Silences shorter than this stay inside a region (the gaps between words)."""
    min_speech_ms: int = 100
    pad_ms: int = 30

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def speech_in(
    audio: np.ndarray, options: VoiceOptions = VoiceOptions()
) -> list[tuple[float, float]]:
    """(start, end) seconds of each stretch of speech in 16 kHz mono float32 samples."""
    if len(audio) == 0:
        return []
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    try:
        stamps = get_speech_timestamps(
            audio,
            VadOptions(
                threshold=options.threshold,
                min_silence_duration_ms=options.min_silence_ms,
                min_speech_duration_ms=options.min_speech_ms,
                speech_pad_ms=options.pad_ms,
            ),
        )
    except Exception as exc:
        raise TranscriptionError(
            "could not find the speech in this recording", detail=f"{type(exc).__name__}: {exc}"
        ) from exc
    return [(round(s["start"] / SAMPLE_RATE, 3), round(s["end"] / SAMPLE_RATE, 3)) for s in stamps]


def speech_regions(
    audio_path: Path | str, options: VoiceOptions = VoiceOptions()
) -> list[tuple[float, float]]:
    """`speech_in` of an audio file (any file PyAV decodes)."""
    return speech_in(decode_audio(audio_path), options)


def regions_to_dict(
    regions: Sequence[tuple[float, float]], options: VoiceOptions = VoiceOptions()
) -> dict[str, Any]:
    """speech.json: {"regions": [[start, end], ...], "options": {...}}."""
    return {"regions": [[a, b] for a, b in regions], "options": options.to_dict()}


def regions_from_dict(data: dict[str, Any]) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in data.get("regions", ())]
