"""Suggested clips are titled by what happens in them, from a table of real-sounding passages."""

from __future__ import annotations

import pytest

from pipeline.titles import activity, describe, describe_all, topic

CASES = [
    (
        "What is an equivalent fraction? Who can give me one equivalent fraction for a half? "
        "Is two quarters equivalent fractions to one half? Hands down, I will choose.",
        "Questions to the class on equivalent fractions",
    ),
    (
        "Open your books to page twelve. Write the date and underline it. "
        "Copy the ratio table from the board. Fill in the ratio table in silence.",
        "Instructions for ratio table",
    ),
    (
        "Now turn to your partner and discuss the poem. What does the poet feel about the sea? "
        "Talk about the sea images for two minutes.",
        "Partner talk on sea",
    ),
    (
        "Photosynthesis happens in the leaf. The leaf takes in carbon dioxide and light, and "
        "photosynthesis makes glucose in the leaf.",
        "Explaining leaf",
    ),
    (
        "Well done Year 8, excellent effort on those fractions today, fractions are hard.",
        "Praise and feedback on fractions",
    ),
]


@pytest.mark.parametrize(("text", "title"), CASES)
def test_titles_say_what_happens(text: str, title: str) -> None:
    assert describe(text) == title


def test_no_topic_keeps_the_fallback_or_names_the_activity() -> None:
    assert describe("Right. Okay. So.", fallback="Right.") == "Right."
    assert describe("Why? How? Who?") == "Questions to the class"
    assert topic("") == ("", 0) and activity("") is None
    assert describe("What is a ratio? Think.", "Question: What is a ratio?") == (
        "Question: What is a ratio?"
    )


def test_neighbours_with_the_same_title_are_told_apart() -> None:
    text = "What are equivalent fractions? Name equivalent fractions for a third?"
    titles = describe_all([text, text], ["What are equivalent…", "Name equivalent…"])
    assert titles[0] == "Questions to the class on equivalent fractions"
    assert titles[1] == "Questions to the class on equivalent fractions: Name equivalent…"
