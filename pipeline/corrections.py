"""A person's correction of a sentence, turned into timed words.

Pure functions over `Transcript`: the API saves what they return as a new transcript version.
A mentor fixes a sentence by retyping it; the words they left alone keep the model's times
exactly (captions, clips by word range and search still point at the same moments), and the
words they changed or added are given times inside the stretch the words they replace covered
(or the pause between their neighbours), in proportion to their length, never outside the
sentence. The alignment is `difflib.SequenceMatcher` over the word texts: a correction is a few
words in a sentence of a few dozen, where its longest-matching-block alignment is exact enough
and needs no dependency.

A word a person typed is no longer one the model was unsure of: it gets probability 1.0.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import replace

from pipeline.transcript import Segment, Transcript, Word

TYPED_PROBABILITY = 1.0
"""The probability of a word a person typed: certain, so never marked as unsure."""


class CorrectionError(ValueError):
    """The correction does not fit the transcript (a sentence that does not exist)."""


def _spread(texts: Sequence[str], start: float, end: float) -> list[Word]:
    """Words laid end to end over [start, end], each as long as its share of the characters."""
    end = max(end, start)
    weights = [max(len(t), 1) for t in texts]
    total = sum(weights)
    words: list[Word] = []
    at = start
    for i, (text, weight) in enumerate(zip(texts, weights, strict=True)):
        stop = end if i == len(texts) - 1 else min(end, at + (end - start) * weight / total)
        # Whole milliseconds like the model's times, but never rounded out of the stretch.
        a, b = (min(max(round(t, 3), start), end) for t in (at, stop))
        words.append(Word(a, b, text, TYPED_PROBABILITY))
        at = stop
    return words


def correct_sentence(segment: Segment, text: str) -> Segment:
    """`segment` with its words replaced by the words of `text`, timed as the module says.

    The sentence keeps its start and end. A sentence without word times (older transcripts)
    gets its new words spread over the whole sentence.
    """
    new = text.split()
    old = list(segment.words)
    lo, hi = segment.start, max(segment.end, segment.start)
    matcher = difflib.SequenceMatcher(a=[w.text.strip() for w in old], b=new, autojunk=False)
    words: list[Word] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            words.extend(old[i1:i2])
        elif tag in ("replace", "insert"):
            if i2 > i1:
                start, end = old[i1].start, old[i2 - 1].end
            else:
                start = old[i1 - 1].end if i1 > 0 else lo
                end = old[i1].start if i1 < len(old) else hi
            start = min(max(start, words[-1].end if words else lo), hi)
            words.extend(_spread(new[j1:j2], start, min(max(end, start), hi)))
        # "delete": the words are gone
    return Segment(lo, hi, " ".join(new), tuple(words))


def correct_transcript(transcript: Transcript, edits: Mapping[int, str]) -> Transcript:
    """`transcript` with sentence `i` (an index into its segments) retyped as `edits[i]`.

    Sentences left with no words are dropped, so a sentence deleted whole leaves no empty cue.
    """
    count = len(transcript.segments)
    wrong = sorted(i for i in edits if not 0 <= i < count)
    if wrong:
        raise CorrectionError(
            f"Sentence {wrong[0]} does not exist; this transcript has {count} sentences "
            f"(numbered from 0)."
        )
    segments = []
    for i, segment in enumerate(transcript.segments):
        fixed = correct_sentence(segment, edits[i]) if i in edits else segment
        if i not in edits or fixed.words or fixed.text:
            segments.append(fixed)
    return replace(transcript, segments=tuple(segments))


def changed_spans(before: Transcript, after: Transcript) -> list[tuple[float, float]]:
    """Where the words of `before` and `after` differ: the times of every word in one and not in
    the other (a word kept with its times is no change). Anything made from the words there, a
    rendered clip's silenced names or its captions, is out of date."""
    old = {(w.start, w.end, w.text) for w in before.words}
    new = {(w.start, w.end, w.text) for w in after.words}
    return sorted((start, end) for start, end, _text in old ^ new)


def overlaps(spans: Sequence[tuple[float, float]], start: float, end: float, pad: float) -> bool:
    """Whether any span, widened by `pad` on each side, meets [start, end)."""
    return any(s - pad < end and start < e + pad for s, e in spans)
