"""Sentence corrections into timed words: examples and properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.corrections import (
    TYPED_PROBABILITY,
    CorrectionError,
    changed_spans,
    correct_sentence,
    correct_transcript,
    overlaps,
)
from pipeline.transcript import Segment, Transcript, Word


def sentence(*timed: tuple[str, float, float], start: float = 0.0, end: float = 0.0) -> Segment:
    words = tuple(Word(a, b, text, 0.4) for text, a, b in timed)
    return Segment(
        start if start else words[0].start,
        end if end else words[-1].end,
        " ".join(w.text for w in words),
        words,
    )


HALF = sentence(("what", 1.0, 1.2), ("is", 1.3, 1.4), ("haff", 1.5, 1.8), ("of", 1.9, 2.0),
                ("eight", 2.1, 2.5))  # fmt: skip


def test_unchanged_words_keep_their_times_and_a_replaced_word_takes_its_place() -> None:
    fixed = correct_sentence(HALF, "what is half of eight")
    assert [w.text for w in fixed.words] == ["what", "is", "half", "of", "eight"]
    assert fixed.words[0] == HALF.words[0]
    assert fixed.words[1] == HALF.words[1]
    assert fixed.words[3:] == HALF.words[3:]
    assert (fixed.words[2].start, fixed.words[2].end) == (1.5, 1.8)
    assert fixed.words[2].probability == TYPED_PROBABILITY
    assert fixed.text == "what is half of eight"
    assert (fixed.start, fixed.end) == (HALF.start, HALF.end)


def test_an_inserted_word_is_timed_in_the_pause_between_its_neighbours() -> None:
    fixed = correct_sentence(HALF, "what is half of the eight")
    inserted = fixed.words[4]
    assert inserted.text == "the"
    assert (inserted.start, inserted.end) == (2.0, 2.1)
    assert fixed.words[5] == HALF.words[4]


def test_one_word_split_in_two_shares_its_time_by_length() -> None:
    fixed = correct_sentence(sentence(("whiteboards", 0.0, 1.2)), "white boards")
    assert [(w.text, w.start, w.end) for w in fixed.words] == [
        ("white", 0.0, 0.545),
        ("boards", 0.545, 1.2),
    ]


def test_deleted_words_are_gone_and_a_sentence_deleted_whole_is_dropped() -> None:
    fixed = correct_sentence(HALF, "what is eight")
    assert [w.text for w in fixed.words] == ["what", "is", "eight"]
    assert fixed.words[2] == HALF.words[4]
    transcript = Transcript("en", 3.0, (HALF, sentence(("ok", 2.6, 2.9))))
    assert [s.text for s in correct_transcript(transcript, {0: "  "}).segments] == ["ok"]


def test_words_are_compared_without_the_spaces_the_model_leaves_around_them() -> None:
    spaced = sentence((" what", 1.0, 1.2), (" is", 1.3, 1.4), (" haff", 1.5, 1.8))
    fixed = correct_sentence(spaced, "what is half")
    assert fixed.words[:2] == spaced.words[:2]
    assert (fixed.words[2].text, fixed.words[2].start) == ("half", 1.5)


def test_a_sentence_that_does_not_exist_is_refused() -> None:
    with pytest.raises(CorrectionError, match="Sentence 3 does not exist"):
        correct_transcript(Transcript("en", 3.0, (HALF,)), {3: "x"})


def test_a_sentence_without_word_times_gets_words_over_the_whole_sentence() -> None:
    fixed = correct_sentence(Segment(4.0, 6.0, "old text", ()), "new words here")
    assert fixed.words[0].start == 4.0
    assert fixed.words[-1].end == 6.0


WORD = st.text(alphabet="abcdefgh.,?", min_size=1, max_size=9)


@st.composite
def sentences(draw: st.DrawFn) -> Segment:
    """A sentence as the model makes one: ordered words, perhaps touching, inside the sentence."""
    start = round(draw(st.floats(0, 1000, allow_nan=False)), 3)
    at = round(start + draw(st.floats(0, 2)), 3)
    words = []
    for text in draw(st.lists(WORD, min_size=0, max_size=12)):
        at += draw(st.sampled_from([0.0, 0.0, 0.05, 0.3, 1.5]))
        length = draw(st.sampled_from([0.0, 0.1, 0.25, 0.8]))
        words.append(Word(round(at, 3), round(at + length, 3), text, 0.5))
        at = round(at + length, 3)
    end = round(at + draw(st.floats(0, 2)), 3)
    return Segment(start, end, " ".join(w.text for w in words), tuple(words))


@settings(max_examples=300, deadline=None)
@given(sentences(), st.lists(st.one_of(WORD, st.sampled_from(["", "  "])), max_size=14), st.data())
def test_corrected_times_are_monotonic_inside_the_sentence_and_keep_unchanged_words(
    segment: Segment, typed: list[str], data: st.DataObject
) -> None:
    # The new text: some old words kept in order, mixed with typed ones.
    old = [w.text for w in segment.words]
    kept = [t for t in old if data.draw(st.booleans())]
    mixed = data.draw(st.permutations(kept + typed)) if data.draw(st.booleans()) else kept + typed
    fixed = correct_sentence(segment, " ".join(mixed))
    assert [w.text for w in fixed.words] == " ".join(mixed).split()
    previous = segment.start
    for word in fixed.words:
        assert segment.start <= word.start <= word.end <= segment.end + 1e-9
        assert word.start >= previous - 1e-9
        previous = word.end
    originals = set(segment.words)
    for word in fixed.words:
        if word not in originals:
            assert word.probability == TYPED_PROBABILITY


@settings(max_examples=100, deadline=None)
@given(sentences())
def test_retyping_a_sentence_unchanged_changes_nothing(segment: Segment) -> None:
    fixed = correct_sentence(segment, segment.text)
    assert fixed.words == segment.words


def test_changed_spans_are_the_times_of_words_in_one_version_only() -> None:
    def words(*said: tuple[float, float, str]) -> Transcript:
        ws = tuple(Word(a, b, t) for a, b, t in said)
        return Transcript(language="en", duration=9.0, segments=(Segment(0.0, 9.0, "", ws),))

    before = words((1.0, 1.5, "we"), (2.0, 2.5, "are"), (3.0, 3.5, "here"))
    after = words((1.0, 1.5, "we"), (2.0, 2.4, "Jayden"), (3.0, 3.5, "here"))
    assert changed_spans(before, after) == [(2.0, 2.4), (2.0, 2.5)]
    assert changed_spans(before, before) == []
    spans = changed_spans(before, after)
    assert overlaps(spans, 0.0, 2.05, pad=0.0) and not overlaps(spans, 2.6, 9.0, pad=0.0)
    assert overlaps(spans, 2.55, 9.0, pad=0.08)  # within the silence's pad
