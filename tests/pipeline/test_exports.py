"""Research exports read back with the libraries that wrote them (pympi for ELAN and Praat, csv)
and compared with the source data: tiers, times in ms, texts."""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path

from pympi import Elan, Praat

from pipeline.analytics import Question, Run
from pipeline.exports import (
    CSV_COLUMNS,
    TIERS,
    ClipRecord,
    CommentRecord,
    LessonRecord,
    StepRecord,
    TagRecord,
    csv_bytes,
    eaf_bytes,
    readme_text,
    textgrid_bytes,
    tiers,
)
from pipeline.transcript import Segment, Transcript, Word

WORDS = (
    Word(0.5, 0.9, "Good"),
    Word(0.9, 1.4, "morning,"),
    Word(1.4, 1.4, "Year"),  # zero length, as Whisper sometimes times a word
    Word(1.45, 2.0, "Eight."),
    Word(3.0, 3.6, "Why"),
    Word(3.6, 4.1, "is"),
    Word(4.1, 4.9, '"half"'),
    Word(4.9, 5.6, "équivalent?"),
)
TRANSCRIPT = Transcript(
    language="en",
    duration=12.0,
    segments=(
        Segment(0.5, 2.0, "Good morning, Year Eight.", WORDS[:4]),
        Segment(3.0, 5.6, 'Why is "half" équivalent?', WORDS[4:]),
    ),
)
TIMELINE = (
    Run(0.5, 2.0, "teacher", 4),
    Run(2.0, 3.0, "silence"),
    Run(3.0, 5.6, "teacher", 4),
    Run(5.6, 9.0, "silence"),
    Run(9.0, 10.2, "pupil", 3),
)
QUESTION = Question(3.0, 5.6, 'Why is "half" équivalent?', "open", "teacher", 3.4, "pupil")
CLIPS = (
    ClipRecord(
        "clip1", 0.5, 6.0, "Opening", "Warm start", "Mr Mentor",
        (TagRecord("ecf:4e", "4e Questioning", "Mr Mentor"), TagRecord("ecf:2b", "2b Recall")),
    ),
    ClipRecord("clip2", 3.0, 9.5, "=SUM(A1)", author="Ms Teacher"),  # overlaps clip1
)  # fmt: skip
COMMENTS = (
    CommentRecord("m1", 1.2, "strength", "Clear signal", "Mr Mentor", "clip1"),
    CommentRecord("m2", 1.5, "question", "Why wait?", "Ms Teacher", "clip1", "m1"),
    CommentRecord("m3", 8.0, "note", "Whole-lesson note", "Mr Mentor"),
)
STEPS = (
    StepRecord(
        "step1", "Wait three seconds", "open", "2026-12-09", "Mr Mentor", ("ecf:4e",), ("clip1",)
    ),
)
RECORD = LessonRecord(
    "lesson1", "Y8 fractions", 12.0, TRANSCRIPT, TIMELINE, (QUESTION,), CLIPS, COMMENTS, STEPS
)


def ms(t: float) -> int:
    return round(t * 1000)


def expected() -> dict[str, list[tuple[int, int, str]]]:
    """Each tier as the source data says it should read, written out by hand."""
    return {
        "utterances": [
            (500, 2000, "Good morning, Year Eight."),
            (3000, 5600, 'Why is "half" équivalent?'),
        ],
        "words": [(ms(w.start), max(ms(w.end), ms(w.start) + 1), w.text) for w in WORDS],
        "speaker": [(500, 2000, "teacher"), (3000, 5600, "teacher"), (9000, 10200, "pupil")],
        "questions": [(3000, 5600, 'Why is "half" équivalent? [open, wait 3.4 s]')],
        "clips": [(500, 6000, "Opening: Warm start")],
        "clips 2": [(3000, 9500, "=SUM(A1)")],
        "strand tags": [(500, 6000, "4e Questioning; 2b Recall")],
        "comments": [
            (1200, 2200, "[strength Mr Mentor] Clear signal"),
            (8000, 9000, "[note Mr Mentor] Whole-lesson note"),
        ],
        "comments 2": [(1500, 2500, "[reply, question Ms Teacher] Why wait?")],
    }  # fmt: skip


def test_the_tiers_hold_the_source_data_without_overlaps() -> None:
    laid = {n: [(s.start, s.end, s.text) for s in items] for n, items in tiers(RECORD).items()}
    assert laid == expected()
    for items in laid.values():
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(items))


def test_eaf_reads_back_with_pympi(tmp_path: Path) -> None:
    path = tmp_path / "lesson.eaf"
    path.write_bytes(eaf_bytes(RECORD))
    eaf = Elan.Eaf(str(path))
    assert list(eaf.get_tier_names()) == list(expected())
    assert set(TIERS) <= set(eaf.get_tier_names())
    for name, want in expected().items():
        got = sorted(eaf.get_annotation_data_for_tier(name))
        assert got == want, name
    properties = dict(eaf.get_properties())
    assert properties["lesson_id"] == "lesson1"
    numbers = [int(aid[1:]) for aid in eaf.annotations]
    assert int(properties["lastUsedAnnotation"]) == max(numbers)  # ELAN numbers new ones after


def test_textgrid_reads_back_with_pympi(tmp_path: Path) -> None:
    path = tmp_path / "lesson.TextGrid"
    path.write_bytes(textgrid_bytes(RECORD))
    grid = Praat.TextGrid(str(path), codec="utf-8")
    assert [t.name for t in grid.get_tiers()] == list(expected())
    assert grid.xmax == 12.0
    for name, want in expected().items():
        intervals = grid.get_tier(name).get_intervals()
        got = [(ms(a), ms(b), text) for a, b, text in intervals if text]
        assert got == want, name


def test_csv_reads_back_with_the_csv_module() -> None:
    data = csv_bytes(RECORD)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    fields = ("record", "id", "clip_id", "start_ms", "end_ms", "text")
    got = [tuple(r[f] for f in fields) for r in rows]
    assert got == [
        ("clip", "clip1", "clip1", "500", "6000", "Opening"),
        ("tag", "ecf:4e", "clip1", "500", "6000", "4e Questioning"),
        ("tag", "ecf:2b", "clip1", "500", "6000", "2b Recall"),
        ("clip", "clip2", "clip2", "3000", "9500", "'=SUM(A1)"),  # never run as a formula
        ("comment", "m1", "clip1", "1200", "", "Clear signal"),
        ("comment", "m2", "clip1", "1500", "", "Why wait?"),
        ("comment", "m3", "", "8000", "", "Whole-lesson note"),
        ("action_step", "step1", "clip1", "", "", "Wait three seconds"),
    ]
    step = rows[-1]
    assert (step["status"], step["target_date"], step["strands"], step["author"]) == (
        "open", "2026-12-09", "ecf:4e", "Mr Mentor",
    )  # fmt: skip
    assert rows[0]["author"] == "Mr Mentor" and rows[0]["strands"] == "ecf:4e;ecf:2b"


def test_a_lesson_without_coaching_still_has_every_tier(tmp_path: Path) -> None:
    bare = LessonRecord("l2", "Bare", 0.0, Transcript("en", 0.0))
    (tmp_path / "a.eaf").write_bytes(eaf_bytes(bare))
    (tmp_path / "a.TextGrid").write_bytes(textgrid_bytes(bare))
    assert list(Elan.Eaf(str(tmp_path / "a.eaf")).get_tier_names()) == list(TIERS)
    grid = Praat.TextGrid(str(tmp_path / "a.TextGrid"), codec="utf-8")
    assert [t.name for t in grid.get_tiers()] == list(TIERS)
    assert csv_bytes(bare).decode("utf-8-sig").splitlines() == [",".join(CSV_COLUMNS)]


def test_readme_names_what_was_left_out_and_why() -> None:
    text = readme_text("batch Spring", [("l1", "Y8")], [("l2", "Y9", "its consent excludes it")])
    assert "Included (1):\n  l1  Y8\n" in text
    assert "Left out (1):\n  l2  Y9: its consent excludes it\n" in text
    assert "Left out (0):\n  none" in readme_text("x", [], [])
