from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.segment import CandidateClip, SegmentOptions, make_title, segment
from pipeline.transcript import Segment, Transcript, Word

OPTIONS = SegmentOptions(min_length=15.0, max_length=120.0, target_length=60.0)


def transcript_from(words: list[Word], duration: float) -> Transcript:
    return Transcript("en", duration, (Segment(0.0, duration, "", tuple(words)),) if words else ())


@st.composite
def lessons(draw: st.DrawFn) -> tuple[Transcript | None, list[float], float]:
    """A lesson: duration, ordered non-overlapping words with pauses, some scene cuts."""
    duration = draw(st.floats(min_value=1.0, max_value=900.0))
    t = draw(st.floats(min_value=0.0, max_value=5.0))
    words: list[Word] = []
    texts = st.sampled_from(["so", "what", "is", "a", "ratio?", "good.", "now", "try", "this."])
    while t < duration and len(words) < 200:
        length = draw(st.floats(min_value=0.05, max_value=1.5))
        end = min(t + length, duration)
        words.append(Word(t, end, " " + draw(texts)))
        t = end + draw(st.sampled_from([0.0, 0.05, 0.2, 0.8, 2.5, 10.0]))
    cuts = draw(st.lists(st.floats(min_value=0.0, max_value=duration), max_size=8))
    kind = draw(st.sampled_from(["words", "empty", "none"]))
    if kind == "none":
        return None, cuts, duration
    return transcript_from(words if kind == "words" else [], duration), cuts, duration


@settings(max_examples=100, deadline=None)
@given(lessons())
def test_clips_cover_the_lesson_in_order_without_splitting_words(
    lesson: tuple[Transcript | None, list[float], float],
) -> None:
    transcript, cuts, duration = lesson
    clips = segment(transcript, cuts, duration, OPTIONS)
    assert clips[0].start == 0.0
    assert clips[-1].end == duration
    for a, b in itertools.pairwise(clips):
        assert a.end == b.start  # no overlap, no gap
    for clip in clips:
        assert 0.0 <= clip.start < clip.end <= duration
        assert clip.end - clip.start <= OPTIONS.max_length + 1e-6
        assert clip.title
    if len(clips) > 1:
        assert all(c.end - c.start >= OPTIONS.min_length - 1e-6 for c in clips)
    words = transcript.words if transcript else []
    for clip in clips[1:]:
        assert not any(w.start + 1e-6 < clip.start < w.end - 1e-6 for w in words)


def test_boundaries_prefer_long_pauses_after_sentences() -> None:
    words = []
    t = 0.0
    for i in range(200):
        words.append(Word(t, t + 0.4, " word." if i % 10 == 9 else " word"))
        t += 0.5 if i != 79 else 4.0  # a long pause follows the sentence ending at 39.9 s
    clips = segment(transcript_from(words, t), [], t, SegmentOptions(30, 90, 45))
    assert clips[0].end == pytest.approx(39.9 + 3.6 / 2)
    assert len(clips) == 2


def test_scene_cut_inside_a_word_moves_to_its_edge() -> None:
    words = [Word(i * 1.0, i * 1.0 + 0.9, " la") for i in range(60)]
    clips = segment(transcript_from(words, 60.0), [30.5], 60.0, SegmentOptions(10, 40, 30))
    assert clips[0].end in (30.0, 30.9)


def test_question_title_and_excerpt() -> None:
    words = [Word(0.5, 0.8, " What"), Word(0.9, 1.0, " is"), Word(1.1, 1.2, " a"),
             Word(1.3, 1.9, " ratio?"), Word(2.5, 2.9, " Think.")]  # fmt: skip
    clips = segment(transcript_from(words, 10.0), [], 10.0)
    assert clips == [
        CandidateClip(0.0, 10.0, "Question: What is a ratio?", "What is a ratio? Think.")
    ]


def test_titles_are_short() -> None:
    assert make_title("One two three four five six seven eight nine ten.", 8) == (
        "One two three four five six seven eight…"
    )
    assert make_title("Hello class. Sit down.", 8) == "Hello class."


def test_no_transcript_uses_scenes_and_windows() -> None:
    clips = segment(None, [40.0], 200.0)
    assert clips[0].end == 40.0
    assert all(c.text == "" and c.title.startswith("Part ") for c in clips)
    assert clips[-1].end == 200.0


def test_silence_is_one_clip_per_window() -> None:
    clips = segment(Transcript("en", 50.0), [], 50.0)
    assert clips == [CandidateClip(0.0, 50.0, "No speech, 0:00–0:50", "")]
    assert CandidateClip.from_dict(clips[0].to_dict()) == clips[0]


def test_zero_duration_gives_nothing() -> None:
    assert segment(None, [], 0.0) == []
