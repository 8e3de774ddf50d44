"""Voice activity: one Silero pass gives both the transcription's cut and the analytics' edges.

`speech_spans` must be faster-whisper's own rule (what `vad_filter` cut before), for the loose
settings transcription uses and the tight ones of the analytics, over speech with pauses of every
length that matters (shorter than the padding, than the analytics' minimum silence, than
transcription's two seconds, and longer).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.transcribe import VadSettings
from pipeline.voice import (
    FRAME_SAMPLES,
    VoiceOptions,
    joined,
    regions_of,
    speech_probabilities,
    speech_spans,
)
from tests import mediafactory as mf

GAPS = [0.05, 0.2, 0.4, 1.0, 2.5, 0.1, 3.0]


@pytest.fixture(scope="module")
def speech_with_pauses(shared_media: Path) -> np.ndarray:
    clips = [
        mf.trim_silence(mf.read_samples(shared_media / "speech" / f"LJ001-{k:04d}.flac"))
        for k in range(1, len(GAPS) + 2)
    ]
    pieces = [np.zeros(8000, np.float32)]
    for clip, gap in zip(clips, [*GAPS, 1.0], strict=True):
        pieces += [clip[: 3 * 16000], np.zeros(int(gap * 16000), np.float32)]
    return np.concatenate(pieces)


@pytest.mark.parametrize(
    "settings",
    [
        VadSettings().as_parameters(),
        {
            "threshold": VoiceOptions.threshold,
            "min_silence_duration_ms": VoiceOptions.min_silence_ms,
            "min_speech_duration_ms": VoiceOptions.min_speech_ms,
            "speech_pad_ms": VoiceOptions.pad_ms,
        },
    ],
    ids=["transcription", "analytics"],
)
def test_spans_from_one_pass_are_faster_whispers_own(
    speech_with_pauses: np.ndarray, settings: dict[str, float]
) -> None:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    audio = speech_with_pauses
    theirs = [(s["start"], s["end"]) for s in get_speech_timestamps(audio, VadOptions(**settings))]
    ours = speech_spans(
        speech_probabilities(audio),
        len(audio),
        threshold=settings["threshold"],
        min_speech_ms=settings["min_speech_duration_ms"],
        min_silence_ms=settings["min_silence_duration_ms"],
        pad_ms=settings["speech_pad_ms"],
    )
    assert ours == theirs
    assert len(ours) >= 2  # the pauses split the speech somewhere, for either settings


def test_the_analytics_regions_keep_pauses_transcription_bridges(
    speech_with_pauses: np.ndarray,
) -> None:
    probabilities = speech_probabilities(speech_with_pauses)
    assert len(probabilities) == -(-len(speech_with_pauses) // FRAME_SAMPLES)
    tight = regions_of(probabilities, len(speech_with_pauses))
    loose = speech_spans(
        probabilities,
        len(speech_with_pauses),
        threshold=0.35,
        min_speech_ms=0,
        min_silence_ms=2000,
        pad_ms=600,
    )
    assert len(tight) > len(loose)
    # every pause of a second or more is silence between two regions
    ends = [e for _, e in tight]
    assert sum(1 for a, b in zip(ends, [s for s, _ in tight][1:], strict=False) if b - a > 0.9) >= 3


def test_a_stretch_split_by_a_window_cut_is_joined_and_nothing_else() -> None:
    window_by_window = [(1.0, 2.0), (2.5, 600.0), (600.0, 601.2), (601.6, 602.0)]
    assert joined(window_by_window) == [(1.0, 2.0), (2.5, 601.2), (601.6, 602.0)]
    assert joined([]) == []


def test_silence_has_no_probabilities_above_the_threshold() -> None:
    assert speech_probabilities(np.zeros(0, np.float32)).shape == (0,)
    quiet = np.zeros(16000 * 3, np.float32)
    assert regions_of(speech_probabilities(quiet), len(quiet)) == []
