"""Research exports of one lesson: ELAN `.eaf` (pympi-ling), Praat TextGrid (pympi-ling's
`Praat.TextGrid`) and a CSV of its clips, strand tags, comments and action steps (csv module).

Pure builders: plain records in, bytes out. What goes in is decided by the caller (the API picks
only what the requester may see and never an email address); this module only lays it out.

Tiers, the same in ELAN and Praat (times in whole milliseconds, as ELAN stores them):

    utterances   the transcript's segments              words      each word
    speaker      runs of talk: teacher, pupil or speech questions  each question [kind, wait]
    clips        each clip's title (and note)           strand tags the clip's strands
    comments     each comment, COMMENT_SECONDS long from its moment

A tier never holds overlapping annotations (Praat forbids it and ELAN draws them over each
other), so an annotation that would overlap another goes to the next tier of its kind:
"clips 2", "clips 3" (`lanes`). An annotation lasts at least 1 ms (ELAN refuses zero length).
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pympi import Elan, Praat

from pipeline.analytics import SILENCE, Question, Run
from pipeline.transcript import Transcript

UTTERANCES = "utterances"
WORDS = "words"
SPEAKER = "speaker"
QUESTIONS = "questions"
CLIPS = "clips"
STRAND_TAGS = "strand tags"
COMMENTS = "comments"
TIERS = (UTTERANCES, WORDS, SPEAKER, QUESTIONS, CLIPS, STRAND_TAGS, COMMENTS)

COMMENT_SECONDS = 1.0
"""A comment is a moment; ELAN and Praat need a length, so it is shown this long."""

CSV_COLUMNS = (
    "record", "id", "clip_id", "start_ms", "end_ms", "kind", "text", "author", "strands",
    "status", "target_date",
)  # fmt: skip
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet runs a cell starting with one of these as a formula: such a cell gets a `'`."""


@dataclass(frozen=True)
class TagRecord:
    strand_id: str
    label: str
    """The strand's code and title, e.g. "4e Use questioning ..."."""
    tagged_by: str = ""


@dataclass(frozen=True)
class ClipRecord:
    id: str
    start: float
    end: float
    title: str
    note: str = ""
    author: str = ""
    tags: tuple[TagRecord, ...] = ()


@dataclass(frozen=True)
class CommentRecord:
    id: str
    at: float
    """Seconds into the lesson (a clip comment's moment plus its clip's start)."""
    kind: str
    body: str
    author: str = ""
    clip_id: str | None = None
    parent_id: str | None = None


@dataclass(frozen=True)
class StepRecord:
    id: str
    instruction: str
    status: str
    target_date: str
    set_by: str = ""
    strands: tuple[str, ...] = ()
    clip_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class LessonRecord:
    id: str
    title: str
    duration: float
    transcript: Transcript
    timeline: tuple[Run, ...] = ()
    questions: tuple[Question, ...] = ()
    clips: tuple[ClipRecord, ...] = ()
    comments: tuple[CommentRecord, ...] = ()
    steps: tuple[StepRecord, ...] = ()
    author: str = field(default="clipcoach")


@dataclass(frozen=True)
class Span:
    """One annotation: [start_ms, end_ms) and its text."""

    start: int
    end: int
    text: str


def ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def span(start: float, end: float, text: str) -> Span:
    begin = ms(start)
    return Span(begin, max(ms(end), begin + 1), text)


def question_text(question: Question) -> str:
    return f"{question.text.strip()} [{question.kind}, wait {question.wait:.1f} s]"


def clip_text(clip: ClipRecord) -> str:
    title = clip.title.strip() or "untitled clip"
    return f"{title}: {clip.note.strip()}" if clip.note.strip() else title


def comment_text(comment: CommentRecord) -> str:
    body = comment.body.strip() or "comment removed"
    who = f" {comment.author}" if comment.author else ""
    reply = "reply, " if comment.parent_id else ""
    return f"[{reply}{comment.kind}{who}] {body}"


def spans(record: LessonRecord) -> dict[str, list[Span]]:
    """Each tier's annotations before they are laid out in lanes: the one definition of what an
    export holds, shared by ELAN and Praat."""
    segments = record.transcript.segments
    return {
        UTTERANCES: [span(s.start, s.end, s.text.strip()) for s in segments if s.text.strip()],
        WORDS: [
            span(w.start, w.end, w.text.strip())
            for s in segments
            for w in s.words
            if w.text.strip()
        ],
        SPEAKER: [span(r.start, r.end, r.label) for r in record.timeline if r.label != SILENCE],
        QUESTIONS: [span(q.start, q.end, question_text(q)) for q in record.questions],
        CLIPS: [span(c.start, c.end, clip_text(c)) for c in record.clips],
        STRAND_TAGS: [
            span(c.start, c.end, "; ".join(t.label for t in c.tags)) for c in record.clips if c.tags
        ],
        COMMENTS: [
            span(c.at, c.at + COMMENT_SECONDS, comment_text(c))
            for c in sorted(record.comments, key=lambda c: (c.at, c.id))
        ],
    }


def lanes(items: Iterable[Span]) -> list[list[Span]]:
    """The spans in as few non-overlapping lists as a first-fit pass in time order makes."""
    out: list[list[Span]] = []
    for item in sorted(items, key=lambda s: (s.start, s.end)):
        for lane in out:
            if lane[-1].end <= item.start:
                lane.append(item)
                break
        else:
            out.append([item])
    return out


def tiers(record: LessonRecord) -> dict[str, list[Span]]:
    """Tier name -> its annotations, every tier of TIERS present (maybe empty), overflow lanes
    after their first as "name 2", "name 3"."""
    out: dict[str, list[Span]] = {}
    for name, items in spans(record).items():
        laid = lanes(items) or [[]]
        for n, lane in enumerate(laid, start=1):
            out[name if n == 1 else f"{name} {n}"] = lane
    return out


def end_ms(record: LessonRecord, laid: dict[str, list[Span]]) -> int:
    last = max((s.end for lane in laid.values() for s in lane), default=0)
    return max(ms(record.duration), last, 1)


def eaf_bytes(record: LessonRecord) -> bytes:
    """The lesson as an ELAN annotation document (EAF 3.0, UTF-8)."""
    eaf = Elan.Eaf(author=record.author)
    eaf.remove_tier("default")
    for name, items in tiers(record).items():
        eaf.add_tier(name)
        for item in items:
            eaf.add_annotation(name, item.start, item.end, item.text)
    eaf.add_property("lesson_id", record.id)
    # pympi leaves ELAN's annotation counter at 0; ELAN would then reuse the ids it numbers from
    eaf.properties = [
        (key, str(eaf.maxaid) if key == "lastUsedAnnotation" else value)
        for key, value in eaf.properties
    ]
    text: str = Elan.to_string(eaf, pretty=True)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + text.encode("utf-8")


def textgrid_bytes(record: LessonRecord) -> bytes:
    """The lesson as a Praat TextGrid (long text format, UTF-8): interval tiers in seconds,
    empty intervals between annotations as Praat expects."""
    laid = tiers(record)
    grid = Praat.TextGrid(xmin=0, xmax=end_ms(record, laid) / 1000)
    for name, items in laid.items():
        tier = grid.add_tier(name)
        for item in items:
            tier.add_interval(item.start / 1000, item.end / 1000, item.text)
    with tempfile.TemporaryDirectory(prefix="clipcoach-textgrid-") as folder:
        path = Path(folder) / "lesson.TextGrid"  # pympi writes only to a path
        grid.to_file(str(path), codec="utf-8")
        return path.read_bytes()


def cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_rows(record: LessonRecord) -> list[dict[str, str]]:
    """One row per clip, strand tag, comment and action step (`record` names which)."""
    rows: list[dict[str, object]] = []
    for c in record.clips:
        rows.append(
            {"record": "clip", "id": c.id, "clip_id": c.id, "start_ms": ms(c.start),
             "end_ms": ms(c.end), "text": c.title, "author": c.author,
             "kind": "", "strands": ";".join(t.strand_id for t in c.tags)}
        )  # fmt: skip
        for t in c.tags:
            rows.append(
                {"record": "tag", "id": t.strand_id, "clip_id": c.id, "start_ms": ms(c.start),
                 "end_ms": ms(c.end), "text": t.label, "author": t.tagged_by,
                 "strands": t.strand_id}
            )  # fmt: skip
    for m in sorted(record.comments, key=lambda c: (c.at, c.id)):
        rows.append(
            {"record": "comment", "id": m.id, "clip_id": m.clip_id or "", "start_ms": ms(m.at),
             "kind": m.kind, "text": m.body, "author": m.author}
        )  # fmt: skip
    for s in record.steps:
        rows.append(
            {"record": "action_step", "id": s.id, "clip_id": ";".join(s.clip_ids),
             "text": s.instruction, "author": s.set_by, "strands": ";".join(s.strands),
             "status": s.status, "target_date": s.target_date}
        )  # fmt: skip
    return [{col: cell(row.get(col, "")) for col in CSV_COLUMNS} for row in rows]


def csv_bytes(record: LessonRecord) -> bytes:
    """Clips, tags, comments and action steps as CSV (UTF-8 with a BOM, so spreadsheet
    programs read the accents right)."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(csv_rows(record))
    return out.getvalue().encode("utf-8-sig")


def readme_text(
    title: str, included: Sequence[tuple[str, str]], left_out: Sequence[tuple[str, str, str]]
) -> str:
    """README.txt of a research zip: what is in it, and which lessons were left out and why."""
    lines = [
        f"clipcoach research export: {title}",
        "",
        "Each lesson is three files named by its id: <id>.eaf (ELAN), <id>.TextGrid (Praat)",
        "and <id>.csv (clips, strand tags, comments, action steps). Times are milliseconds from",
        "the start of the recording. No email addresses are included; adults appear by the name",
        "clipcoach shows; pupils' names are not stored. The recordings themselves are not",
        "included.",
        "",
        f"Included ({len(included)}):",
    ]
    lines += [f"  {lesson_id}  {name}" for lesson_id, name in included] or ["  none"]
    lines += ["", f"Left out ({len(left_out)}):"]
    lines += [f"  {lesson_id}  {name}: {why}" for lesson_id, name, why in left_out] or ["  none"]
    return "\n".join(lines) + "\n"
