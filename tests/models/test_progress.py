"""The half-terms an ECT's evidence is grouped by, and the counting itself (pure)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from models.progress import (
    ClipRecord,
    HalfTerm,
    LessonRecord,
    StepRecord,
    gather,
    half_term_of,
    half_terms_between,
)


@pytest.mark.parametrize(
    ("day", "key", "label"),
    [
        (date(2026, 9, 1), "2026-1", "Autumn 1 2026/27"),
        (date(2026, 10, 31), "2026-1", "Autumn 1 2026/27"),
        (date(2026, 11, 1), "2026-2", "Autumn 2 2026/27"),
        (date(2026, 12, 31), "2026-2", "Autumn 2 2026/27"),
        (date(2027, 1, 1), "2026-3", "Spring 1 2026/27"),
        (date(2027, 2, 14), "2026-3", "Spring 1 2026/27"),
        (date(2027, 2, 15), "2026-4", "Spring 2 2026/27"),
        (date(2027, 3, 27), "2026-4", "Spring 2 2026/27"),  # Easter 2027 is 28 March
        (date(2027, 3, 28), "2026-5", "Summer 1 2026/27"),
        (date(2027, 5, 31), "2026-5", "Summer 1 2026/27"),
        (date(2027, 6, 1), "2026-6", "Summer 2 2026/27"),
        (date(2027, 8, 31), "2026-6", "Summer 2 2026/27"),
        (date(2027, 9, 1), "2027-1", "Autumn 1 2027/28"),
        (date(2026, 4, 4), "2025-4", "Spring 2 2025/26"),  # Easter 2026 is 5 April
        (date(2026, 4, 5), "2025-5", "Summer 1 2025/26"),
        (date(2099, 12, 1), "2099-2", "Autumn 2 2099/00"),
    ],
)
def test_half_term_of_a_day(day: date, key: str, label: str) -> None:
    term = half_term_of(day)
    assert (term.key, term.label) == (key, label)


def test_half_terms_tile_the_calendar() -> None:
    """Every day lies inside its half-term, and each half-term starts the day after the last
    one ends: no day is lost or counted twice, over years with early and late Easters."""
    day, previous = date(2023, 8, 25), None
    while day < date(2030, 9, 10):
        term = half_term_of(day)
        assert term.start <= day <= term.end
        if previous is not None and term != previous:
            assert term == previous.next() and term.start == previous.end + timedelta(days=1)
        previous = term
        day += timedelta(days=1)


def test_two_induction_years_are_twelve_half_terms() -> None:
    terms = half_terms_between(date(2026, 9, 1), date(2028, 7, 20))
    assert len(terms) == 12
    assert (terms[0], terms[-1]) == (HalfTerm(2026, 1), HalfTerm(2027, 6))
    assert half_terms_between(date(2028, 7, 20), date(2026, 9, 1)) == terms
    assert len(half_terms_between(date(2000, 1, 1), date(2030, 1, 1))) == 36  # bounded


def test_gather_counts_each_half_term_and_the_strands() -> None:
    lessons = [
        LessonRecord("l1", date(2026, 9, 10)),
        LessonRecord("l2", date(2026, 9, 24)),
        LessonRecord("l3", date(2026, 11, 5)),
    ]
    clips = [
        ClipRecord("c1", "l1", date(2026, 9, 11), ("s:4e", "s:2a")),
        ClipRecord("c2", "l1", date(2026, 9, 12), ("s:4e",)),
        ClipRecord("c3", "l3", date(2026, 11, 6), ("s:4e", "s:4e")),
        ClipRecord("c4", "l3", date(2026, 11, 7), ()),
    ]
    steps = [
        StepRecord(date(2026, 9, 11), "closed", date(2026, 9, 20), date(2026, 11, 2)),
        StepRecord(date(2026, 9, 25), "carried", None, date(2026, 10, 30)),
        StepRecord(date(2026, 10, 30), "practised", date(2026, 11, 3)),
        StepRecord(date(2026, 11, 6), "open"),
    ]
    evidence = gather(lessons, clips, steps, date(2026, 9, 1), today=date(2027, 1, 8))
    rows = {t.term.key: t.measures() for t in evidence.terms}
    assert list(rows) == ["2026-1", "2026-2", "2026-3"]  # today's half-term, empty, included
    assert rows["2026-1"] == {
        "lessons": 2, "lessons_clipped": 1, "clips": 2,
        "steps_set": 3, "steps_practised": 1, "steps_closed": 0, "steps_carried": 1,
    }  # fmt: skip
    assert rows["2026-2"] == {
        "lessons": 1, "lessons_clipped": 1, "clips": 2,
        "steps_set": 1, "steps_practised": 1, "steps_closed": 1, "steps_carried": 0,
    }  # fmt: skip
    assert set(rows["2026-3"].values()) == {0}
    # a strand counts each clip once; the latest clip is the most recent, ties by count first
    assert [(s.strand_id, s.clips, s.latest_clip_id) for s in evidence.strands] == [
        ("s:4e", 3, "c3"),
        ("s:2a", 1, "c1"),
    ]


def test_gather_with_nothing_yet_is_today_alone() -> None:
    evidence = gather([], [], [], None, today=date(2026, 12, 2))
    assert [t.term.key for t in evidence.terms] == ["2026-2"]
    assert evidence.strands == []
    # an induction start in the future still lists from today to it
    ahead = gather([], [], [], date(2027, 9, 1), today=date(2027, 7, 1))
    assert [t.term.key for t in ahead.terms] == ["2026-6", "2027-1"]
