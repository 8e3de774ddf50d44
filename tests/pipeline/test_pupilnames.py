"""Finding pupils' names in transcripts: misheard spellings caught, ordinary words left alone."""

from __future__ import annotations

import pytest

from pipeline.pupilnames import PUPIL, name_list, name_times, redact_names, redact_text
from pipeline.redact import name_silences, shown_clip_transcript
from pipeline.transcript import Segment, Transcript, Word

CLASS = name_list(["Jayden", "Aisha", "Caitlyn", "Siobhan", "Tom", "Will", "Grace", "May", "Rose"])

# (said as the model wrote it, what a reader outside the coaching pair reads)
CASES = [
    ("Jayden, can you read?", "[pupil], can you read?"),
    ("Jaden, can you read?", "[pupil], can you read?"),  # one letter lost
    ("Well done Aysha.", "Well done [pupil]."),  # a vowel misheard
    ("Kaitlin's book is here.", "[pupil]'s book is here."),  # spelled another way, possessive
    ("Siobhán, sit down.", "[pupil], sit down."),  # an accent
    ("Thank you, Will.", "Thank you, [pupil]."),
    ("Can Will read next?", "Can [pupil] read next?"),
    ("Grace, sit down please.", "[pupil], sit down please."),
    ("Thank you, May.", "Thank you, [pupil]."),
    ("Tom and Rose are next.", "[pupil] and [pupil] are next."),
    # ordinary words stay, names that are words included
    ("Will you sit down?", "Will you sit down?"),
    ("You may go now.", "You may go now."),
    ("In May we start fractions.", "In May we start fractions."),
    ("Amazing grace, he said.", "Amazing grace, he said."),
    ("I will tell you.", "I will tell you."),
    ("The rose grows.", "The rose grows."),
    ("Then they took the tomatoes.", "Then they took the tomatoes."),
    ("Tim is away.", "Tim is away."),  # three letters: exact only
    ("Aim high in maths.", "Aim high in maths."),
    ("Jade and Jane", "Jade and Jane"),  # not on the list, and not within an edit of a name
]


@pytest.mark.parametrize(("said", "shown"), CASES)
def test_a_name_is_replaced_and_an_ordinary_word_is_not(said: str, shown: str) -> None:
    assert redact_text(said, CLASS)[0] == shown


def test_no_false_hits_over_a_page_of_ordinary_classroom_talk() -> None:
    talk = (
        "Right, everyone. Today we will look at fractions. May I have your attention? Hope you "
        "all read the chapter. Mark your work in green pen, then swap books. Grace is a word in "
        "the poem. Will anyone tell me what a numerator is? Well done. Then we go to the hall."
    )
    assert PUPIL not in redact_text(talk, CLASS)[0]


def _transcript() -> Transcript:
    words = (
        Word(1.0, 1.3, " Thank", 0.9),
        Word(1.3, 1.5, " you,", 0.9),
        Word(1.6, 2.0, " Aysha.", 0.8),
        Word(2.2, 2.5, " Will", 0.9),
        Word(2.5, 2.7, " you", 0.9),
        Word(2.7, 3.0, " help", 0.9),
        Word(3.0, 3.4, " Will?", 0.9),
    )
    return Transcript(
        "en", 10.0, (Segment(1.0, 3.4, " Thank you, Aysha. Will you help Will?", words),)
    )


def test_words_and_segment_text_agree_and_times_are_those_of_the_names() -> None:
    shown = redact_names(_transcript(), CLASS)
    segment = shown.segments[0]
    assert segment.text == " Thank you, [pupil]. Will you help [pupil]?"
    assert [w.text for w in segment.words] == [
        " Thank", " you,", " [pupil].", " Will", " you", " help", " [pupil]?",
    ]  # fmt: skip
    assert [w.start for w in segment.words] == [w.start for w in _transcript().words]
    assert name_times(_transcript(), CLASS) == [(1.6, 2.0), (3.0, 3.4)]


def test_a_clip_viewer_outside_the_pair_reads_placeholders_and_the_pair_reads_names() -> None:
    plain = shown_clip_transcript(_transcript(), [], 1.0, 4.0)
    hidden = shown_clip_transcript(_transcript(), [], 1.0, 4.0, CLASS)
    assert "Aysha" in plain.text and "Aysha" not in hidden.text
    assert hidden.text.count(PUPIL) == 2


def test_silences_are_in_clip_time_padded_and_skip_blanked_words() -> None:
    assert name_silences(_transcript(), [], CLASS, 1.0, 4.0) == [(0.52, 1.08), (1.92, 2.48)]
    assert name_silences(_transcript(), [(2.9, 3.5)], CLASS, 1.0, 4.0) == [(0.52, 1.08)]
    assert name_silences(_transcript(), [], name_list([]), 1.0, 4.0) == []


def test_an_empty_list_changes_nothing() -> None:
    assert redact_names(_transcript(), name_list([])) == _transcript()
    assert name_list(["  ", "42"]).names == ()
