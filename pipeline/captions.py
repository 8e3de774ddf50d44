"""Transcript exports (WebVTT, SRT, plain text, JSON) and clip-relative transcripts.

Pure functions over `Transcript`: no model, no ffmpeg. Whisper's segments can run to 30 s and
several hundred characters, far too much for a caption, so cues are rebuilt from word timestamps:
at most two lines of about 42 characters and about 6 seconds each (the usual broadcast limits),
broken at word boundaries and preferably after punctuation. Times are worked in whole
milliseconds so cues never overlap through rounding, and stay inside the media.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, get_args

import srt

from pipeline.tools import atomic_output
from pipeline.transcript import Segment, Transcript, Word

MAX_LINE_CHARS = 42
MAX_LINES = 2
MAX_CUE_SECONDS = 6.0
MAX_GAP_SECONDS = 1.5
"""A pause this long inside a cue ends it, so no caption stays up over silence."""
MIN_CUE_SECONDS = 0.7
"""Short cues are stretched to this when the next cue leaves room, so they can be read."""
PARAGRAPH_PAUSE_SECONDS = 3.0
"""A pause at least this long between segments starts a new paragraph in the plain text."""

TranscriptFormat = Literal["json", "vtt", "srt", "txt"]
"""The transcript exports, by the name the API's `?format=` and the batch's `--formats` use."""
FORMATS: tuple[TranscriptFormat, ...] = get_args(TranscriptFormat)


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def wrap_lines(words: Sequence[str], max_chars: int = MAX_LINE_CHARS) -> list[str]:
    """Break words into lines of at most `max_chars` (a longer single word gets its own line).

    Two-line cues are balanced rather than filled greedily: a 50-character cue reads better as
    25 + 25 than as 42 + 8.
    """
    text = " ".join(words)
    if len(text) <= max_chars or len(words) < 2:
        return [text] if text else []
    best: tuple[int, int] | None = None  # (longer line length, split index)
    for i in range(1, len(words)):
        first, second = " ".join(words[:i]), " ".join(words[i:])
        if len(first) <= max_chars and len(second) <= max_chars:
            key = max(len(first), len(second))
            if best is None or key < best[0]:
                best = (key, i)
    if best is not None:
        return [" ".join(words[: best[1]]), " ".join(words[best[1] :])]
    lines: list[str] = []
    current: list[str] = []
    for word in words:
        if current and len(" ".join([*current, word])) > max_chars:
            lines.append(" ".join(current))
            current = []
        current.append(word)
    if current:
        lines.append(" ".join(current))
    return lines


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _fits(words: Sequence[str], max_chars: int, max_lines: int) -> bool:
    return len(wrap_lines(words, max_chars)) <= max_lines


def _group_words(
    words: Sequence[Word], max_chars: int, max_lines: int, max_seconds: float
) -> list[list[Word]]:
    """Greedy grouping of one segment's words into cues, preferring breaks after punctuation."""
    groups: list[list[Word]] = []
    current: list[Word] = []
    for word in words:
        candidate = [*current, word]
        too_long = not _fits([w.text for w in candidate], max_chars, max_lines)
        too_slow = bool(current) and word.end - current[0].start > max_seconds
        if current and word.start - current[-1].end >= MAX_GAP_SECONDS:
            groups.append(current)
            current = []
        elif current and (too_long or too_slow):
            # Move the break back to the last punctuation in the second half of the cue.
            cut = len(current)
            for i in range(len(current) - 1, len(current) // 2, -1):
                if current[i - 1].text[-1:] in ",.;:!?":
                    cut = i
                    break
            groups.append(current[:cut])
            current = current[cut:]
            candidate = [*current, word]
            if current and (
                not _fits([w.text for w in candidate], max_chars, max_lines)
                or word.end - current[0].start > max_seconds
            ):
                groups.append(current)
                current = []
        current.append(word)
    if current:
        groups.append(current)
    return groups


def build_cues(
    transcript: Transcript,
    *,
    max_chars: int = MAX_LINE_CHARS,
    max_lines: int = MAX_LINES,
    max_seconds: float = MAX_CUE_SECONDS,
) -> list[Cue]:
    """Caption cues for a transcript: ordered, non-overlapping, inside [0, duration].

    Segments without word timings (older transcripts) become one cue each, wrapped.
    """
    raw: list[tuple[int, int, list[str]]] = []
    for segment in transcript.segments:
        if segment.words:
            for group in _group_words(segment.words, max_chars, max_lines, max_seconds):
                raw.append((_ms(group[0].start), _ms(group[-1].end), [w.text for w in group]))
        elif segment.text.strip():
            raw.append((_ms(segment.start), _ms(segment.end), segment.text.split()))
    # Cues end by the end of the media; with no known duration, by the end of the last word.
    limit = max([_ms(transcript.duration)] + [end for _start, end, _words in raw])
    cues: list[Cue] = []
    previous_end = 0
    for index, (start, end, words) in enumerate(raw):
        start = max(start, previous_end)
        end = max(end, start)
        next_start = raw[index + 1][0] if index + 1 < len(raw) else None
        room = [start + _ms(MIN_CUE_SECONDS), limit]
        if next_start is not None:
            room.append(max(next_start, end))
        end = min(max(end, min(room)), limit)
        start = min(start, end)
        cues.append(Cue(start, end, tuple(wrap_lines(words, max_chars))))
        previous_end = end
    return cues


def vtt_time(ms: int) -> str:
    """A WebVTT timestamp (HH:MM:SS.mmm): captions and the thumbnail track both write these."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _vtt_escape(text: str) -> str:
    # "-->" would end the timing line's meaning; & and < start entities and tags in WebVTT.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(transcript: Transcript) -> str:
    """WebVTT for the browser's <track>: the whole lesson or, via `clip_transcript`, one clip."""
    blocks = ["WEBVTT"]
    for cue in build_cues(transcript):
        blocks.append(
            f"{vtt_time(cue.start_ms)} --> {vtt_time(cue.end_ms)}\n{_vtt_escape(cue.text)}"
        )
    return "\n\n".join(blocks) + "\n"


def to_srt(transcript: Transcript) -> str:
    """SubRip, for video editors and players that do not read WebVTT."""
    subtitles = [
        srt.Subtitle(
            index=i,
            start=datetime.timedelta(milliseconds=cue.start_ms),
            end=datetime.timedelta(milliseconds=cue.end_ms),
            content=cue.text,
        )
        for i, cue in enumerate(build_cues(transcript), start=1)
    ]
    return str(srt.compose(subtitles, reindex=False))


def to_text(transcript: Transcript) -> str:
    """Readable plain text: a paragraph per stretch of talk, a blank line at long pauses."""
    paragraphs: list[list[str]] = []
    previous_end: float | None = None
    for segment in transcript.segments:
        text = segment.text.strip()
        if not text:
            continue
        if previous_end is None or segment.start - previous_end >= PARAGRAPH_PAUSE_SECONDS:
            paragraphs.append([])
        paragraphs[-1].append(text)
        previous_end = segment.end
    return "".join(" ".join(p) + "\n\n" for p in paragraphs).rstrip("\n") + (
        "\n" if paragraphs else ""
    )


def to_json(transcript: Transcript) -> str:
    """The full transcript (segments with words) as `Transcript.from_dict` reads it back."""
    return json.dumps(transcript.to_dict(), ensure_ascii=False, indent=1) + "\n"


RENDERERS = {"json": to_json, "vtt": to_vtt, "srt": to_srt, "txt": to_text}


def render(transcript: Transcript, fmt: str) -> str:
    """One export by format name ("json", "vtt", "srt", "txt"), as the API's ?format= asks."""
    try:
        return RENDERERS[fmt](transcript)
    except KeyError:
        raise ValueError(f"unknown transcript format {fmt!r}; expected one of {FORMATS}") from None


def write_transcript_files(
    transcript: Transcript, out_dir: Path, formats: Iterable[str] = FORMATS
) -> dict[str, Path]:
    """Write transcript.<fmt> for each format atomically; return the paths by format."""
    written: dict[str, Path] = {}
    for fmt in formats:
        content = render(transcript, fmt)
        dst = Path(out_dir) / f"transcript.{fmt}"
        with atomic_output(dst) as tmp:
            tmp.write_text(content, encoding="utf-8")
        written[fmt] = dst
    return written


def clip_transcript(transcript: Transcript, start: float, end: float) -> Transcript:
    """The part of a transcript inside [start, end], shifted so the clip starts at 0.

    A word belongs to the clip when its midpoint is inside: a mentor who cuts at a word's edge,
    a few milliseconds off, still gets that word, and a word barely touched by the cut does not
    appear. Kept words are clamped to the clip. Segments without word timings are kept only when
    wholly inside.
    """
    if transcript.duration > 0:
        end = min(end, transcript.duration)
    start = max(0.0, start)
    if end <= start:
        return replace(transcript, duration=0.0, segments=())
    length = end - start

    def shift(t: float) -> float:
        return round(min(max(t - start, 0.0), length), 3)

    segments: list[Segment] = []
    for segment in transcript.segments:
        if not segment.words:
            if segment.text.strip() and start <= segment.start and segment.end <= end:
                segments.append(Segment(shift(segment.start), shift(segment.end), segment.text, ()))
            continue
        kept = tuple(
            Word(shift(w.start), shift(w.end), w.text, w.probability)
            for w in segment.words
            if start <= (w.start + w.end) / 2 <= end
        )
        if not kept:
            continue
        text = segment.text if len(kept) == len(segment.words) else " ".join(w.text for w in kept)
        segments.append(Segment(kept[0].start, kept[-1].end, text, kept))
    return replace(
        transcript,
        duration=round(length, 3),
        segments=tuple(segments),
        options={**transcript.options, "clip": {"start": start, "end": end}},
    )
