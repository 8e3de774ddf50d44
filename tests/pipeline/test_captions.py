"""Caption exports and clip transcripts: pure functions, checked by properties and examples."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
import srt
import webvtt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.captions import (
    MAX_CUE_SECONDS,
    MAX_LINE_CHARS,
    MAX_LINES,
    build_cues,
    clip_transcript,
    render,
    to_json,
    to_srt,
    to_text,
    to_vtt,
    wrap_lines,
    write_transcript_files,
)
from pipeline.transcript import Segment, Transcript, Word

WORD_TEXT = st.one_of(
    st.sampled_from(["the", "pupils", "fractions,", "denominator.", "Why?", "&", "<b>", "Year-7"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz.,!?'&<>", min_size=1, max_size=14),
    st.text(alphabet="xyz", min_size=43, max_size=50),  # longer than a caption line
)


@st.composite
def transcripts(draw: st.DrawFn) -> Transcript:
    """Transcripts as the model makes them: ordered words, segments of consecutive words."""
    n_words = draw(st.integers(min_value=0, max_value=60))
    t = draw(st.floats(min_value=0, max_value=5))
    words = []
    for _ in range(n_words):
        t += draw(st.floats(min_value=0, max_value=4))
        length = draw(st.floats(min_value=0, max_value=1.5))
        words.append(Word(round(t, 3), round(t + length, 3), draw(WORD_TEXT)))
        t += length
    segments = []
    i = 0
    while i < len(words):
        size = draw(st.integers(min_value=1, max_value=40))
        chunk = tuple(words[i : i + size])
        text = " ".join(w.text for w in chunk)
        segments.append(Segment(chunk[0].start, chunk[-1].end, text, chunk))
        i += size
    duration = round(t + draw(st.floats(min_value=0, max_value=3)), 3)
    return Transcript(language="en", duration=duration, segments=tuple(segments), model="tiny.en")


@given(transcripts())
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_cues_are_ordered_inside_the_media_and_keep_every_word(transcript: Transcript) -> None:
    cues = build_cues(transcript)
    previous_end = 0
    for cue in cues:
        assert previous_end <= cue.start_ms <= cue.end_ms <= round(transcript.duration * 1000)
        previous_end = cue.end_ms
    assert " ".join(c.text.replace("\n", " ") for c in cues).split() == [
        w.text for w in transcript.words
    ]


@given(transcripts())
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_cues_are_short_enough_to_read(transcript: Transcript) -> None:
    for cue in build_cues(transcript):
        words = cue.text.split()
        if len(words) == 1:
            continue  # a single over-long word cannot be broken
        assert len(cue.lines) <= MAX_LINES or any(len(w) > MAX_LINE_CHARS for w in words)
        for line in cue.lines:
            assert len(line) <= MAX_LINE_CHARS or " " not in line
    for segment in transcript.segments:
        # Speech inside one cue never spans more than the limit (stretching short cues aside).
        spans = _word_spans_per_cue(transcript, segment)
        assert all(span <= MAX_CUE_SECONDS + 0.001 for span in spans)


def _word_spans_per_cue(transcript: Transcript, segment: Segment) -> list[float]:
    from pipeline.captions import _group_words

    return [
        g[-1].end - g[0].start
        for g in _group_words(segment.words, MAX_LINE_CHARS, MAX_LINES, MAX_CUE_SECONDS)
        if len(g) > 1
    ]


@given(transcripts())
@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
def test_vtt_round_trips_through_webvtt_py(transcript: Transcript) -> None:
    text = to_vtt(transcript)
    parsed = webvtt.from_string(text, strict=True)
    cues = build_cues(transcript)
    assert len(parsed.captions) == len(cues)
    for caption, cue in zip(parsed.captions, cues, strict=True):
        assert (_ms(caption.start), _ms(caption.end)) == (cue.start_ms, cue.end_ms)
        assert html.unescape(caption.text) == cue.text
        assert "-->" not in caption.text


def _ms(timestamp: str) -> int:
    hours, minutes, seconds = timestamp.split(":")
    return round((int(hours) * 3600 + int(minutes) * 60 + float(seconds)) * 1000)


@given(transcripts())
@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
def test_srt_round_trips_through_srt_library(transcript: Transcript) -> None:
    parsed = list(srt.parse(to_srt(transcript)))
    cues = build_cues(transcript)
    assert [(s.start.total_seconds(), s.end.total_seconds(), s.content) for s in parsed] == [
        (c.start_ms / 1000, c.end_ms / 1000, c.text) for c in cues
    ]
    assert [s.index for s in parsed] == list(range(1, len(cues) + 1))


@given(transcripts())
@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
def test_json_round_trips_to_the_same_transcript(transcript: Transcript) -> None:
    assert Transcript.from_dict(json.loads(to_json(transcript))) == transcript


@given(transcripts(), st.floats(0, 120), st.floats(0, 60))
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_clip_keeps_the_words_inside_and_starts_at_zero(
    transcript: Transcript, start: float, length: float
) -> None:
    end = start + length
    clip = clip_transcript(transcript, start, end)
    clip_end = min(end, transcript.duration)
    expected = [w.text for w in transcript.words if start <= (w.start + w.end) / 2 <= clip_end]
    if clip_end <= start:
        expected = []
    assert [w.text for w in clip.words] == expected
    previous = 0.0
    for segment in clip.segments:
        assert 0 <= segment.start <= segment.end <= clip.duration
        for word in segment.words:
            assert previous <= word.start <= word.end <= clip.duration
            previous = word.start
    # The clip's own captions stay inside the clip.
    for cue in build_cues(clip):
        assert cue.end_ms <= round(clip.duration * 1000)


TEACHER_SENTENCE = (
    "Right, everyone, eyes on me. Today we are going to look at equivalent fractions, "
    "and by the end of the lesson you will be able to explain why they are equal."
)


def _transcript(*timed_words: tuple[float, float, str], duration: float = 60.0) -> Transcript:
    words = tuple(Word(s, e, t) for s, e, t in timed_words)
    segment = Segment(words[0].start, words[-1].end, " ".join(w.text for w in words), words)
    return Transcript(language="en", duration=duration, segments=(segment,))


def test_a_long_segment_is_split_at_punctuation_and_time() -> None:
    sentence = TEACHER_SENTENCE.split()
    transcript = _transcript(*((i * 0.4, i * 0.4 + 0.35, w) for i, w in enumerate(sentence)))
    cues = build_cues(transcript)
    assert len(cues) >= 3
    assert cues[0].text.replace("\n", " ").endswith(("me.", "fractions,"))
    assert all(c.end_ms - c.start_ms <= MAX_CUE_SECONDS * 1000 for c in cues)


def test_a_pause_ends_a_cue() -> None:
    transcript = _transcript(
        (1.0, 1.5, "Pens"), (1.6, 2.0, "down."), (5.0, 5.5, "Thank"), (5.6, 6, "you.")
    )
    assert [(c.text, c.start_ms) for c in build_cues(transcript)] == [
        ("Pens down.", 1000),
        ("Thank you.", 5000),
    ]


def test_vtt_text_is_escaped_and_times_formatted() -> None:
    transcript = _transcript(
        (3661.5, 3662.25, "Fish"), (3662.3, 3662.9, "&"), (3663, 3664, "<chips>"), duration=4000
    )
    vtt = to_vtt(transcript)
    assert vtt.startswith("WEBVTT\n\n01:01:01.500 --> 01:01:04.000\n")
    assert "Fish &amp; &lt;chips&gt;" in vtt


def test_short_cue_is_stretched_for_reading_but_not_past_the_next() -> None:
    first = Segment(1.0, 1.1, "Yes.", (Word(1.0, 1.1, "Yes."),))
    second = Segment(1.4, 2.0, "Good.", (Word(1.4, 2.0, "Good."),))
    cues = build_cues(Transcript("en", 10.0, (first, second)))
    assert [(c.start_ms, c.end_ms) for c in cues] == [(1000, 1400), (1400, 2100)]


def test_plain_text_starts_a_paragraph_at_a_long_pause() -> None:
    segments = (
        Segment(0, 2, " Good morning.", ()),
        Segment(2.5, 4, "Sit down, please.", ()),
        Segment(20, 22, "Pens down.", ()),
    )
    text = to_text(Transcript("en", 30, segments))
    assert text == "Good morning. Sit down, please.\n\nPens down.\n"


def test_segments_without_words_still_make_captions() -> None:
    transcript = Transcript("en", 10, (Segment(1, 3, "Hello class.", ()),))
    (subtitle,) = srt.parse(to_srt(transcript))
    assert subtitle.content == "Hello class."


def test_empty_transcript_exports() -> None:
    empty = Transcript("en", 10.0)
    assert to_vtt(empty) == "WEBVTT\n"
    assert to_srt(empty) == ""
    assert to_text(empty) == ""
    assert webvtt.from_string(to_vtt(empty)).captions == []


def test_wrap_lines_balances_two_lines() -> None:
    words = ["we", "are", "going", "to", "look", "at", "equivalent", "fractions", "today"]
    lines = wrap_lines(words)
    assert len(lines) == 2
    assert abs(len(lines[0]) - len(lines[1])) <= 10


def test_render_rejects_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="docx"):
        render(Transcript("en", 1.0), "docx")


def test_write_transcript_files_writes_each_format_and_no_temporaries(tmp_path: Path) -> None:
    transcript = _transcript((0.5, 1.0, "Hello"), (1.1, 1.6, "everyone."), duration=5)
    written = write_transcript_files(transcript, tmp_path / "out")
    assert set(written) == {"json", "vtt", "srt", "txt"}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "transcript.json",
        "transcript.srt",
        "transcript.txt",
        "transcript.vtt",
    ]
    assert written["txt"].read_text() == "Hello everyone.\n"
    assert Transcript.from_dict(json.loads(written["json"].read_text())) == transcript


def test_clip_shifts_times_and_keeps_edge_words_by_midpoint() -> None:
    transcript = _transcript(
        (10.0, 10.5, "before"), (10.9, 11.4, "edge"), (11.5, 12.0, "inside"), (12.2, 13.0, "out")
    )
    clip = clip_transcript(transcript, 11.0, 12.5)
    assert [(w.text, w.start, w.end) for w in clip.words] == [
        ("edge", 0.0, 0.4),
        ("inside", 0.5, 1.0),
    ]
    assert clip.duration == 1.5
    assert clip.text == "edge inside"
    assert to_vtt(clip).splitlines()[2] == "00:00:00.000 --> 00:00:01.000"
