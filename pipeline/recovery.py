"""Finding speech the first pass skipped, and merging what a second look heard: pure functions.

Why a second look: on a long lesson the first pass (VAD, then Whisper conditioned on the text
before) can drop a whole passage: a hoarse or muffled speaker, quieter than the rest, after a
pause. VAD may mark none of it as speech, or mark it and the decoder still writes nothing (it
decides the window is non-speech, or carries on from the previous text and skips ahead). Nobody
reading the transcript can see such a hole. Loud-enough sound with no word written over it for
seconds is the hole's signature, and it is cheap to find from the audio's energy alone:

1. `frame_levels`: the level of each 0.1 s frame in dB below full scale;
2. `noise_floor`: a low percentile of those levels, the room's own sound (silence, hum, fans and
   noise are steady, so they sit at the floor and never look like a hole);
3. `unheard_stretches`: runs of frames well above the floor, away from every written word,
   lasting long enough to be speech rather than a cough or a chair;
4. each stretch is decoded again on its own by `pipeline.transcribe` (no previous text, no VAD)
   and only what passes `RecoveryOptions`' confidence guards is kept;
5. `merge_recovered`: the kept segments join the transcript in time order, never over a word
   the first pass already wrote.

Figures behind the defaults: `benchmarks/longform_results.md`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.transcript import Segment, Word

SILENT_DB = -90.0
"""The level given to a frame of digital silence (log of zero), and the lowest floor."""


@dataclass(frozen=True)
class RecoveryOptions:
    """When to take a second look at a stretch and what of it to keep."""

    frame_seconds: float = 0.1
    floor_percentile: float = 10.0
    """The noise floor is this percentile of frame levels: lessons pause often enough that the
    quietest tenth of the frames is the room, not speech."""
    margin_db: float = 15.0
    """A frame counts as sound when it is this far above the floor (speech 8-10 dB quieter than
    the rest of a lesson is still 20-30 dB above a classroom's floor)."""
    min_floor_db: float = -70.0
    """The floor is never taken lower than this, so dither over digital silence is not sound."""
    word_pad_seconds: float = 0.5
    """Sound this close to a written word belongs to it (breaths, word-time slack)."""
    bridge_seconds: float = 1.0
    """Quiet gaps up to this long inside a stretch join its parts (pauses between phrases)."""
    min_sound_seconds: float = 2.0
    """A stretch needs at least this much sound in it: several seconds with no word, not a
    cough or a dropped book."""
    context_seconds: float = 0.5
    """Audio either side of a stretch given to the model with it, so edge words are whole."""
    max_no_speech_prob: float = 0.6
    min_avg_logprob: float = -0.8
    max_compression_ratio: float = 2.4
    """A re-decoded segment is kept only when the model thinks it is speech, is fairly sure of
    its words and is not looping (Whisper's own thresholds for the last two, stricter for the
    first): over noise the model's "You" sits at no_speech_prob ~0.95."""


@dataclass(frozen=True)
class Stretch:
    """A span of the recording, in seconds."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def frame_levels(audio: np.ndarray, rate: int, frame_seconds: float = 0.1) -> np.ndarray:
    """RMS level of each whole frame of `audio`, in dB below full scale (silence = SILENT_DB)."""
    frame = max(1, round(frame_seconds * rate))
    count = len(audio) // frame
    if count == 0:
        return np.zeros(0)
    frames = np.asarray(audio[: count * frame]).reshape(count, frame)
    power = np.empty(count)
    block = 6000  # frames at a time: a 3-hour recording never needs a float64 copy of itself
    for first in range(0, count, block):
        part = frames[first : first + block].astype(np.float64)
        power[first : first + block] = np.square(part).mean(axis=1)
    with np.errstate(divide="ignore"):
        levels = 10.0 * np.log10(power)
    clipped: np.ndarray = np.maximum(levels, SILENT_DB)
    return clipped


def noise_floor(levels: np.ndarray, options: RecoveryOptions = RecoveryOptions()) -> float:
    """The room's own level: a low percentile of the frame levels, no lower than min_floor_db."""
    if len(levels) == 0:
        return options.min_floor_db
    return max(float(np.percentile(levels, options.floor_percentile)), options.min_floor_db)


def unheard_stretches(
    levels: np.ndarray,
    words: Iterable[Word],
    duration: float,
    options: RecoveryOptions = RecoveryOptions(),
) -> list[Stretch]:
    """Stretches of sound well above the floor with no written word near them.

    `levels` are `frame_levels` of the recording, `words` what the first pass wrote. Each
    stretch is widened by `context_seconds` and clamped into the recording.
    """
    step = options.frame_seconds
    sound = levels > noise_floor(levels, options) + options.margin_db
    for word in words:
        first = max(0, int((word.start - options.word_pad_seconds) / step))
        last = min(len(sound), int(np.ceil((word.end + options.word_pad_seconds) / step)))
        sound[first:last] = False
    bridge = round(options.bridge_seconds / step)
    stretches: list[Stretch] = []
    start = previous = -1
    heard = 0
    for index in np.flatnonzero(sound):
        if start >= 0 and index - previous - 1 > bridge:
            stretches.extend(_stretch(start, previous, heard, duration, options))
            start = -1
        if start < 0:
            start, heard = int(index), 0
        previous = int(index)
        heard += 1
    if start >= 0:
        stretches.extend(_stretch(start, previous, heard, duration, options))
    return stretches


def _stretch(
    first: int, last: int, heard: int, duration: float, options: RecoveryOptions
) -> list[Stretch]:
    if heard * options.frame_seconds < options.min_sound_seconds:
        return []
    start = max(0.0, first * options.frame_seconds - options.context_seconds)
    end = min(duration, (last + 1) * options.frame_seconds + options.context_seconds)
    return [Stretch(round(start, 3), round(end, 3))]


def confident(
    no_speech_prob: float,
    avg_logprob: float,
    compression_ratio: float,
    options: RecoveryOptions = RecoveryOptions(),
) -> bool:
    """Whether a re-decoded segment is speech the model is sure enough of to add."""
    return (
        no_speech_prob <= options.max_no_speech_prob
        and avg_logprob >= options.min_avg_logprob
        and compression_ratio <= options.max_compression_ratio
    )


def merge_recovered(
    segments: Sequence[Segment], recovered: Iterable[Segment], pad: float = 0.0
) -> list[Segment]:
    """All segments in time order; a recovered word overlapping a written one (within `pad`
    seconds) is dropped, since the first pass had context the second look did not."""
    taken = [(w.start - pad, w.end + pad) for s in segments for w in s.words]
    added: list[Segment] = []
    for segment in recovered:
        words = tuple(
            w for w in segment.words if not any(a < w.end and w.start < b for a, b in taken)
        )
        if not words:
            continue
        if len(words) < len(segment.words):
            text = " ".join(w.text for w in words)
            segment = Segment(words[0].start, words[-1].end, text, words)
        added.append(segment)
        taken.extend((w.start - pad, w.end + pad) for w in words)
    return sorted([*segments, *added], key=lambda s: (s.start, s.end))


__all__ = [
    "RecoveryOptions",
    "Stretch",
    "confident",
    "frame_levels",
    "merge_recovered",
    "noise_floor",
    "unheard_stretches",
]
