"""Suggested strands for a range of a lesson: the clip's words and talk figures, ranked.

The ranking and the figure rules are `models.suggest` (pure); this module cuts a lesson's
transcript and talk analytics (`pipeline.analytics`) down to the range, which models/ may not do
because it never imports pipeline/.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.schemas import StrandSuggestion
from models.framework import Strand, ensure_builtin
from models.suggest import ClipFigures, ranker, strand_texts
from models.transcripts import TimedWord
from pipeline.analytics import TalkAnalytics


def range_text(words: list[TimedWord], start: float, end: float) -> str:
    """The words whose middle lies in the range."""
    return " ".join(w.text for w in words if start <= (w.start + w.end) / 2 <= end)


def range_figures(result: TalkAnalytics | None, start: float, end: float) -> ClipFigures:
    """The talk figures of the range: its questions and their waits, its longest unbroken
    teacher talk (any speech when voices were not told apart), its share of pupil talk."""
    if result is None or end <= start:
        return ClipFigures()
    questions = [q for q in result.questions if q.start >= start - 0.05 and q.end <= end + 0.05]
    waits = [q.wait for q in questions]
    talker = "teacher" if result.speakers else "speech"

    def inside(label: str) -> list[float]:
        return [
            min(r.end, end) - max(r.start, start)
            for r in result.timeline
            if r.label == label and r.end > start and r.start < end
        ]

    talk = inside(talker)
    return ClipFigures(
        questions=len(questions),
        open_questions=sum(q.kind == "open" for q in questions),
        closed_questions=sum(q.kind == "closed" for q in questions),
        mean_wait=round(sum(waits) / len(waits), 2) if waits else None,
        longest_teacher_talk=max(talk) if talk else None,
        pupil_share=sum(inside("pupil")) / (end - start) if result.speakers else None,
    )


def suggest(
    session: Session, framework_id: str, text: str, figures: ClipFigures
) -> list[StrandSuggestion]:
    """Up to three strands of the framework (None when it is not loaded), best first."""
    ensure_builtin(session)
    rows = list(
        session.scalars(
            select(Strand).where(Strand.framework_id == framework_id).order_by(Strand.position)
        )
    )
    texts = strand_texts(rows)
    return [
        StrandSuggestion(
            strand_id=s.strand_id,
            framework_id=framework_id,
            code=s.code,
            title=s.title,
            why=s.why,
            words=list(s.words),
            figures=list(s.figures),
            score=s.score,
        )
        for s in ranker(framework_id, texts).suggest(text, figures)
    ]
