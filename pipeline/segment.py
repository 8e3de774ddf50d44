"""Candidate clips for the mentor: where a lesson falls apart into moments worth a look.

A pure function of the transcript, the scene cuts and the duration. Boundaries go where a teacher
would put them: in pauses, after sentences, at camera cuts; never inside a word. Clips cover the
whole lesson without gaps or overlaps, so a mentor scrolling the list sees every minute once, and
each lasts between `min_length` and `max_length` wherever the words allow it.

Works without a transcript (video without sound: scene cuts and fixed windows) and with an empty
one (silence). Titles come from the excerpt's own words; no model is involved.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from pipeline.titles import describe_all
from pipeline.transcript import Transcript

SENTENCE_END = re.compile(r"[.?!…][\"')\]]*$")


@dataclass(frozen=True)
class SegmentOptions:
    min_length: float = 15.0
    max_length: float = 120.0
    target_length: float = 60.0
    min_pause: float = 0.7
    """A silence between words at least this long is a natural place to cut."""
    scene_weight: float = 1.0
    title_words: int = 8


@dataclass(frozen=True)
class CandidateClip:
    start: float
    end: float
    title: str
    text: str

    def to_dict(self) -> dict[str, float | str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, float | str]) -> CandidateClip:
        return cls(float(data["start"]), float(data["end"]), str(data["title"]), str(data["text"]))


@dataclass(frozen=True)
class Unit:
    """A stretch that must not be cut: a word, or a whole segment when words are missing."""

    start: float
    end: float
    text: str


def units_of(transcript: Transcript | None, duration: float) -> list[Unit]:
    if transcript is None:
        return []
    raw = [(w.start, w.end, w.text) for w in transcript.words]
    if not raw:
        raw = [(s.start, s.end, s.text) for s in transcript.segments if s.text.strip()]
    units = []
    for start, end, text in raw:
        a, b = max(0.0, min(start, duration)), max(0.0, min(end, duration))
        units.append(Unit(min(a, b), max(a, b), text.strip()))
    return sorted(units, key=lambda u: (u.start, u.end))


def blocked_spans(units: Sequence[Unit]) -> list[tuple[float, float]]:
    """Disjoint open intervals no boundary may fall inside, in order."""
    spans: list[tuple[float, float]] = []
    for u in units:
        if u.end <= u.start:
            continue
        if spans and u.start < spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], u.end))
        else:
            spans.append((u.start, u.end))
    return spans


def snap(t: float, spans: Sequence[tuple[float, float]]) -> float:
    """`t`, or the nearer edge of the word it falls inside."""
    for a, b in spans:
        if a < t < b:
            return a if t - a <= b - t else b
    return t


def boundary_strengths(
    units: Sequence[Unit], scene_cuts: Sequence[float], duration: float, options: SegmentOptions
) -> dict[float, float]:
    """Places a clip may end, with how natural each is (pauses, sentence ends, scene cuts)."""
    spans = blocked_spans(units)
    strengths: dict[float, float] = {}
    for prev, nxt in itertools.pairwise(units):
        gap = nxt.start - prev.end
        sentence = bool(SENTENCE_END.search(prev.text))
        if gap < options.min_pause and not sentence:
            continue
        t = snap(prev.end + max(gap, 0.0) / 2, spans)
        strength = min(max(gap, 0.0), 3.0) / 3.0 + (0.5 if sentence else 0.0)
        strengths[t] = max(strengths.get(t, 0.0), strength)
    for cut in scene_cuts:
        if not 0.0 < cut < duration:
            continue
        t = snap(cut, spans)
        near = [k for k in strengths if abs(k - t) <= 1.0]
        key = min(near, key=lambda k: abs(k - t)) if near else t
        strengths[key] = strengths.get(key, 0.0) + options.scene_weight
    return strengths


def fallback_boundary(
    lo: float, hi: float, aim: float, spans: Sequence[tuple[float, float]], floor: float
) -> float:
    """The allowed point in [lo, hi] nearest `aim`; past `hi` only if one word fills the range."""
    points = [p for a, b in spans for p in (a, b) if lo <= p <= hi]
    aim_ok = snap(aim, spans)
    if lo <= aim_ok <= hi:
        points.append(aim_ok)
    if points:
        return min(points, key=lambda p: abs(p - aim))
    for a, b in spans:
        if a < hi < b:
            return a if a > floor else b
    return hi


def clock(seconds: float) -> str:
    whole = math.floor(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def make_title(text: str, words: int) -> str:
    """The opening words of the excerpt, or "Question: ..." when it opens with one."""
    first = re.split(r"(?<=[.?!…])\s+", text.strip(), maxsplit=1)[0]
    tokens = first.split()
    short = " ".join(tokens[:words]).rstrip(",;:")
    if first.endswith("?"):
        return f"Question: {short if len(tokens) <= words else short + '…'}"
    if len(tokens) > words:
        return short.rstrip(".!") + "…"
    return short


def excerpt(units: Sequence[Unit], start: float, end: float) -> str:
    inside = [u.text for u in units if start <= (u.start + u.end) / 2 < end and u.text]
    return " ".join(inside)


def boundaries(
    units: Sequence[Unit], scene_cuts: Sequence[float], duration: float, options: SegmentOptions
) -> list[float]:
    """0, the chosen cut points, then `duration`."""
    spans = blocked_spans(units)
    strengths = boundary_strengths(units, scene_cuts, duration, options)
    points = [0.0]
    s = 0.0
    while duration - s > options.max_length or (
        duration - s >= options.target_length + options.min_length
    ):
        lo = s + options.min_length
        hi = max(lo, min(s + options.max_length, duration - options.min_length))
        aim = min(s + options.target_length, hi)
        scored = [
            (strength - abs(t - aim) / options.max_length, t)
            for t, strength in strengths.items()
            if lo <= t <= hi
        ]
        t = max(scored)[1] if scored else fallback_boundary(lo, hi, aim, spans, s)
        if t <= s or t >= duration:
            break
        points.append(t)
        s = t
    points.append(duration)
    return points


def segment(
    transcript: Transcript | None,
    scene_cuts: Sequence[float],
    duration: float,
    options: SegmentOptions = SegmentOptions(),
) -> list[CandidateClip]:
    """Cover [0, duration] with titled candidate clips; `transcript=None` means no sound at all."""
    if duration <= 0:
        return []
    units = units_of(transcript, duration)
    points = boundaries(units, sorted(scene_cuts), duration, options)
    spans = list(itertools.pairwise(points))
    texts = [excerpt(units, start, end) for start, end in spans]
    openings = [make_title(text, options.title_words) if text else "" for text in texts]
    titles = describe_all(texts, openings)
    clips = []
    for n, ((start, end), text, title) in enumerate(zip(spans, texts, titles, strict=True), 1):
        if not text:
            title = (
                f"Part {n}, {clock(start)}–{clock(end)}"
                if transcript is None
                else f"No speech, {clock(start)}–{clock(end)}"
            )
        # Times stay unrounded: rounding a word's edge can move it inside the word.
        clips.append(CandidateClip(start, end, title, text))
    return clips
