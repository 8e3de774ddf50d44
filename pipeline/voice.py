"""Where a recording holds speech: voice-activity regions for the talk analytics.

Whisper's word times are good at word starts but stretch a phrase's last word over the silence
after it (by a second or more), and wait time is exactly that silence. Silero VAD (shipped inside
faster-whisper, so nothing new to install) finds the edges of speech to a few hundredths of a
second; `pipeline.analytics` clips the words to these regions. Tighter than the VAD transcription
uses (which pads speech by 600 ms so no word is cut): here the edges themselves are the result.

The network is the costly part (about 10 CPU s an hour), the thresholds that turn its per-frame
probabilities into regions cost nothing. So the probabilities are computed once
(`speech_probabilities`), and both the transcription's cut (`pipeline.transcribe`, its
`VadSettings`) and these regions (`VoiceOptions`) are read from them by `speech_spans`, the same
rule faster-whisper's `get_speech_timestamps` applies (adapted from silero-vad, MIT), so the
analytics need no second pass over the audio.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pipeline.errors import TranscriptionError
from pipeline.transcribe import SAMPLE_RATE, decode_audio

FRAME_SAMPLES = 512
"""Silero's step: one speech probability per 32 ms."""


@dataclass(frozen=True)
class VoiceOptions:
    threshold: float = 0.5
    min_silence_ms: int = 250
    """Silences shorter than this stay inside a region (the gaps between words)."""
    min_speech_ms: int = 100
    pad_ms: int = 30

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def speech_probabilities(audio: np.ndarray) -> npt.NDArray[np.float32]:
    """Silero's speech probability for each 32 ms frame of 16 kHz mono float32 `audio` (the last
    frame zero-padded), exactly as faster-whisper computes them before thresholding."""
    if len(audio) == 0:
        return np.zeros(0, np.float32)
    from faster_whisper.vad import get_vad_model

    padded = np.pad(audio, (0, FRAME_SAMPLES - len(audio) % FRAME_SAMPLES))
    try:
        probabilities = get_vad_model()(padded)
    except Exception as exc:
        raise TranscriptionError(
            "could not find the speech in this recording", detail=f"{type(exc).__name__}: {exc}"
        ) from exc
    return np.asarray(probabilities, np.float32).reshape(-1)


def speech_spans(
    probabilities: Sequence[float] | np.ndarray,
    samples: int,
    *,
    threshold: float,
    min_speech_ms: float,
    min_silence_ms: float,
    pad_ms: float,
) -> list[tuple[int, int]]:
    """(start, end) sample indexes of the speech in `samples` samples of audio, from their
    per-frame `probabilities`: speech starts at a frame at or above `threshold` and ends at the
    first of `min_silence_ms` of frames below `threshold - 0.15`; stretches no longer than
    `min_speech_ms` are dropped and the rest padded by `pad_ms` (half the gap when two are
    closer than twice that). faster-whisper's rule with no maximum speech length."""
    low = max(threshold - 0.15, 0.01)
    min_speech = SAMPLE_RATE * min_speech_ms / 1000
    min_silence = SAMPLE_RATE * min_silence_ms / 1000
    pad = SAMPLE_RATE * pad_ms / 1000
    found: list[list[int]] = []
    start: int | None = None
    quiet_from = 0  # where the current run of silence inside speech began (0: none)
    for i, p in enumerate(probabilities):
        at = FRAME_SAMPLES * i
        if p >= threshold and quiet_from:
            quiet_from = 0
        if p >= threshold and start is None:
            start = at
            continue
        if p < low and start is not None:
            if not quiet_from:
                quiet_from = at
            if at - quiet_from < min_silence:
                continue
            if quiet_from - start > min_speech:
                found.append([start, quiet_from])
            start, quiet_from = None, 0
    if start is not None and samples - start > min_speech:
        found.append([start, samples])
    for i, span in enumerate(found):
        if i == 0:
            span[0] = int(max(0, span[0] - pad))
        if i == len(found) - 1:
            span[1] = int(min(samples, span[1] + pad))
            continue
        after = found[i + 1]
        silence = after[0] - span[1]
        if silence < 2 * pad:
            span[1] += int(silence // 2)
            after[0] = int(max(0, after[0] - silence // 2))
        else:
            span[1] = int(min(samples, span[1] + pad))
            after[0] = int(max(0, after[0] - pad))
    return [(a, b) for a, b in found]


def regions_of(
    probabilities: Sequence[float] | np.ndarray,
    samples: int,
    options: VoiceOptions = VoiceOptions(),
) -> list[tuple[float, float]]:
    """(start, end) seconds of each stretch of speech, from Silero's per-frame probabilities."""
    spans = speech_spans(
        probabilities,
        samples,
        threshold=options.threshold,
        min_speech_ms=options.min_speech_ms,
        min_silence_ms=options.min_silence_ms,
        pad_ms=options.pad_ms,
    )
    return [(round(a / SAMPLE_RATE, 3), round(b / SAMPLE_RATE, 3)) for a, b in spans]


def speech_in(
    audio: np.ndarray, options: VoiceOptions = VoiceOptions()
) -> list[tuple[float, float]]:
    """(start, end) seconds of each stretch of speech in 16 kHz mono float32 samples."""
    return regions_of(speech_probabilities(audio), len(audio), options)


def speech_regions(
    audio_path: Path | str, options: VoiceOptions = VoiceOptions()
) -> list[tuple[float, float]]:
    """`speech_in` of an audio file (any file PyAV decodes): for a transcript made without
    Silero (the sound cut, a batched or another transcriber), which brings no regions."""
    return speech_in(decode_audio(audio_path), options)


def joined(regions: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Regions found window by window, in order, with a stretch of speech that a window's cut
    split (one window's last region ending where the next one's first begins, within a frame)
    made whole again. Regions of one pass are never that close: they are at least the minimum
    silence apart less their padding."""
    out: list[tuple[float, float]] = []
    for start, end in regions:
        if out and start - out[-1][1] < FRAME_SAMPLES / SAMPLE_RATE:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def regions_to_dict(
    regions: Sequence[tuple[float, float]], options: VoiceOptions = VoiceOptions()
) -> dict[str, Any]:
    """speech.json: {"regions": [[start, end], ...], "options": {...}}."""
    return {"regions": [[a, b] for a, b in regions], "options": options.to_dict()}


def regions_from_dict(data: dict[str, Any]) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in data.get("regions", ())]
