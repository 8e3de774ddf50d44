"""Lesson storage keys: one function in models/lesson.py builds them, and no other code does."""

from __future__ import annotations

import pytest

from models.coaching import clip_media_key
from models.lesson import Lesson, lesson_key, lesson_prefix
from tests.sourcescan import strings_outside

PACKAGES = ["api", "models", "workers", "pipeline", "benchmarks"]


def test_keys_sit_in_the_lessons_folder() -> None:
    assert lesson_prefix("abc") == "lessons/abc"
    assert lesson_key("abc", "transcript.json") == "lessons/abc/transcript.json"
    assert lesson_key("abc", "clips", "c1.mp4") == "lessons/abc/clips/c1.mp4"
    assert lesson_key("abc") == lesson_prefix("abc")


def test_the_lesson_row_and_the_clip_keys_use_the_same_rule() -> None:
    lesson = Lesson(id="abc", owner_id="u", title="t", source_filename="a.mp4", source_key="")
    assert lesson.artefact_key("lesson.mp4") == lesson_key("abc", "lesson.mp4")
    assert clip_media_key("abc", "c1", 1.0, 2.5).startswith(lesson_key("abc", "clips") + "/")


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_builds_a_lesson_key_by_hand(package: str) -> None:
    built = strings_outside(package, lambda text: text.startswith("lessons/"), "models/lesson.py")
    assert built == []
