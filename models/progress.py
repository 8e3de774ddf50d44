"""An ECT's progress over the two induction years, as evidence: never a score.

Pure functions over plain records (the route gathers them under the access rules): which
framework strands tagged clips evidence, how many lessons were observed and clipped and how
many action steps were set, practised, closed or carried in each school half-term.

English school half-terms differ by local authority and academy trust; `half_term_of` places a
day in one of six fixed periods of the school year (1 September to 31 August), which is close
enough to group a term's evidence but is not any school's calendar:

    Autumn 1   1 Sep - 31 Oct     (half-term break is usually the last week of October)
    Autumn 2   1 Nov - 31 Dec
    Spring 1   1 Jan - 14 Feb     (half-term is usually in mid-February)
    Spring 2  15 Feb - Easter Saturday  (the Easter holiday falls around Easter Sunday)
    Summer 1  Easter Sunday - 31 May    (the late-May bank-holiday week)
    Summer 2   1 Jun - 31 Aug     (the summer holiday, from late July, counts here)

Holidays belong to the period they fall in: no lessons are taught then, so nothing is lost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from dateutil.easter import easter

NAMES = ("Autumn 1", "Autumn 2", "Spring 1", "Spring 2", "Summer 1", "Summer 2")
MAX_HALF_TERMS = 36
"""At most six school years are listed (the two induction years and then some)."""


def _easter(year: int) -> date:
    day: date = easter(year)
    return day


@dataclass(frozen=True, order=True)
class HalfTerm:
    school_year: int
    """The calendar year the school year starts in (September)."""
    number: int
    """1-6: Autumn 1 to Summer 2."""

    @property
    def key(self) -> str:
        return f"{self.school_year}-{self.number}"

    @property
    def year_label(self) -> str:
        return f"{self.school_year}/{(self.school_year + 1) % 100:02d}"

    @property
    def label(self) -> str:
        return f"{NAMES[self.number - 1]} {self.year_label}"

    @property
    def start(self) -> date:
        y = self.school_year
        return {
            1: date(y, 9, 1),
            2: date(y, 11, 1),
            3: date(y + 1, 1, 1),
            4: date(y + 1, 2, 15),
            5: _easter(y + 1),
            6: date(y + 1, 6, 1),
        }[self.number]

    @property
    def end(self) -> date:
        """The last day of the period (inclusive)."""
        return self.next().start - timedelta(days=1)

    def next(self) -> HalfTerm:
        if self.number == 6:
            return HalfTerm(self.school_year + 1, 1)
        return HalfTerm(self.school_year, self.number + 1)


def half_term_of(day: date) -> HalfTerm:
    """The approximate English school half-term `day` falls in (see the module's table)."""
    school_year = day.year if day.month >= 9 else day.year - 1
    if day.month >= 9:
        return HalfTerm(school_year, 1 if day.month <= 10 else 2)
    if day < date(day.year, 2, 15):
        return HalfTerm(school_year, 3)
    if day < _easter(day.year):
        return HalfTerm(school_year, 4)
    if day.month < 6:
        return HalfTerm(school_year, 5)
    return HalfTerm(school_year, 6)


def half_terms_between(first: date, last: date) -> list[HalfTerm]:
    """Every half-term from the one holding `first` to the one holding `last`, in order (the
    latest MAX_HALF_TERMS of them when the span is longer)."""
    if last < first:
        first, last = last, first
    term, end = half_term_of(first), half_term_of(last)
    terms = [term]
    while term < end:
        term = term.next()
        terms.append(term)
    return terms[-MAX_HALF_TERMS:]


# the records the route gathers, already filtered to what the viewer may see


@dataclass(frozen=True)
class LessonRecord:
    id: str
    day: date
    """When it was uploaded: the day of the observation, as near as the record knows."""


@dataclass(frozen=True)
class ClipRecord:
    id: str
    lesson_id: str
    day: date
    strand_ids: tuple[str, ...]


@dataclass(frozen=True)
class StepRecord:
    set_on: date
    status: str
    """open, practised, closed or carried (models.action_steps.StepStatus)."""
    practised_on: date | None = None
    reviewed_on: date | None = None
    """When it was closed or carried forward."""


@dataclass
class TermEvidence:
    term: HalfTerm
    lessons: int = 0
    lessons_clipped: int = 0
    clips: int = 0
    steps_set: int = 0
    steps_practised: int = 0
    steps_closed: int = 0
    steps_carried: int = 0

    MEASURES = (
        "lessons", "lessons_clipped", "clips",
        "steps_set", "steps_practised", "steps_closed", "steps_carried",
    )  # fmt: skip

    def measures(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.MEASURES}


@dataclass(frozen=True)
class StrandEvidence:
    strand_id: str
    clips: int
    latest_clip_id: str
    latest_day: date


@dataclass
class Evidence:
    terms: list[TermEvidence] = field(default_factory=list)
    strands: list[StrandEvidence] = field(default_factory=list)


def _dated(lessons: Sequence[LessonRecord], clips: Sequence[ClipRecord],
           steps: Sequence[StepRecord]) -> Iterable[date]:  # fmt: skip
    yield from (lesson.day for lesson in lessons)
    yield from (clip.day for clip in clips)
    for step in steps:
        yield step.set_on
        yield from (d for d in (step.practised_on, step.reviewed_on) if d is not None)


def gather(
    lessons: Sequence[LessonRecord],
    clips: Sequence[ClipRecord],
    steps: Sequence[StepRecord],
    induction_start: date | None,
    today: date,
) -> Evidence:
    """Count the evidence per half-term, from the induction start (or the first record) to
    today (or the last record), empty half-terms included so gaps show; and, per strand, how
    many tagged clips evidence it and which is the latest (ordered by count, then recency)."""
    days = list(_dated(lessons, clips, steps))
    first = min([induction_start, *days] if induction_start else days, default=today)
    last = max([today, *days])
    terms = {t: TermEvidence(t) for t in half_terms_between(first, last)}

    def bucket(day: date) -> TermEvidence | None:
        return terms.get(half_term_of(day))

    clipped = {clip.lesson_id for clip in clips}
    for lesson in lessons:
        if (row := bucket(lesson.day)) is not None:
            row.lessons += 1
            row.lessons_clipped += lesson.id in clipped
    for clip in clips:
        if (row := bucket(clip.day)) is not None:
            row.clips += 1
    for step in steps:
        if (row := bucket(step.set_on)) is not None:
            row.steps_set += 1
        if step.practised_on and (row := bucket(step.practised_on)) is not None:
            row.steps_practised += 1
        if step.reviewed_on and (row := bucket(step.reviewed_on)) is not None:
            if step.status == "closed":
                row.steps_closed += 1
            elif step.status == "carried":
                row.steps_carried += 1

    counts: Counter[str] = Counter()
    latest: dict[str, ClipRecord] = {}
    for clip in clips:
        for strand in dict.fromkeys(clip.strand_ids):
            counts[strand] += 1
            best = latest.get(strand)
            if best is None or (clip.day, clip.id) > (best.day, best.id):
                latest[strand] = clip
    strands = [StrandEvidence(s, n, latest[s].id, latest[s].day) for s, n in counts.items()]
    strands.sort(key=lambda e: (-e.clips, -e.latest_day.toordinal(), e.strand_id))
    return Evidence(list(terms.values()), strands)
