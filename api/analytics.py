"""The talk analytics as a person reads them: each figure with one plain line on what it means.

The figures are computed by `pipeline.analytics` (stored as analytics.json by the segment stage
and after each transcript correction); this module only words them. The words say what a figure
shows and why a mentor might ask about it, never whether it is good: the figures are evidence
for a conversation, and the page says so.
"""

from __future__ import annotations

from typing import Any

from api.schemas import AnalyticsFigure, AnalyticsPublic
from pipeline.analytics import TalkAnalytics

NOTE = (
    "These figures are evidence for a conversation between mentor and teacher, never a score. "
    "They were computed on the school's own machine from the transcript's word timings."
)

MEANINGS: dict[str, tuple[str, str, str]] = {
    "speech_share": (
        "Speaking time", "share",
        "How much of the recording someone was talking; the rest was silence, reading or "
        "work time.",
    ),
    "teacher_share": (
        "Teacher talk", "share",
        "How much of the recording the main speaker (the teacher, nearest the microphone) "
        "talked.",
    ),
    "pupil_share": (
        "Pupil talk", "share",
        "How much of the recording other voices (pupils) talked, as far as the microphone "
        "heard them.",
    ),
    "silence_seconds": (
        "Silence", "s",
        "Time with no speech: thinking time, independent work, or moments the microphone "
        "could not hear.",
    ),
    "longest_stretch": (
        "Longest unbroken talk", "s",
        "The longest run of talk without a pause of a second or more; long runs can be a "
        "clear explanation or a moment pupils stopped listening.",
    ),
    "questions": (
        "Questions", "count",
        "Utterances asked as questions, found from punctuation and the words.",
    ),
    "questions_per_ten_minutes": (
        "Questions per ten minutes", "per 10 min",
        "How often questions were asked, to compare lessons of different lengths.",
    ),
    "open_questions": (
        "Open questions", "count",
        "Questions that invite reasons, ideas or several answers (why, how, what do you "
        "think).",
    ),
    "closed_questions": (
        "Closed questions", "count",
        "Questions with one short or yes/no answer: useful for checking recall.",
    ),
    "mean_wait": (
        "Average wait time", "s",
        "The average silence after a question before anyone spoke.",
    ),
    "long_wait_share": (
        "Questions followed by 3 s or more", "share",
        "Research on questioning finds that about three seconds of waiting gives more pupils "
        "time to think and longer answers.",
    ),
    "words_per_minute": (
        "Pace", "words/min",
        "Words per minute while speaking; conversational English is roughly 120-160.",
    ),
}  # fmt: skip
"""name -> (label, unit, meaning), in the order the figures are listed."""


def _values(result: TalkAnalytics) -> dict[str, float | None]:
    talk = {t.label: t for t in result.talk}
    longest = max((r.duration for t in result.talk for r in t.longest), default=None)
    values: dict[str, float | None] = {
        "speech_share": round(result.speech_seconds / result.duration, 4)
        if result.duration
        else None,
        "silence_seconds": result.silence_seconds,
        "longest_stretch": None if longest is None else round(longest, 3),
        "questions": float(len(result.questions)),
        "questions_per_ten_minutes": result.questions_per_ten_minutes,
        "open_questions": float(result.open_questions),
        "closed_questions": float(result.closed_questions),
        "mean_wait": result.mean_wait,
        "long_wait_share": result.long_wait_share,
        "words_per_minute": result.words_per_minute,
    }
    if result.speakers:
        values["teacher_share"] = talk["teacher"].share if "teacher" in talk else 0.0
        values["pupil_share"] = talk["pupil"].share if "pupil" in talk else 0.0
    return values


def how_sure(result: TalkAnalytics) -> str:
    """One line on how far the figures can be trusted, for the page to show beside them."""
    parts = []
    if result.edges_from_voice:
        parts.append("Wait times come from where the audio holds speech (about 0.1 s).")
    else:
        parts.append("Wait times come from word timings alone and can be short by a second.")
    parts.append(
        "Questions and open/closed are found by rules over the words (over 9 in 10 right "
        "on the project's test list); a mistyped transcript misleads them."
    )
    if result.speakers:
        sure = "" if result.speaker_confidence is None else f" ({result.speaker_confidence:.0%})"
        parts.append(f"Teacher and pupil are told apart by voice{sure}; pupils far from the "
                     "microphone may be missed.")  # fmt: skip
    else:
        parts.append("Teacher and pupil talk are not told apart for this lesson.")
    return " ".join(parts)


def public(result: TalkAnalytics) -> AnalyticsPublic:
    values = _values(result)
    figures = [
        AnalyticsFigure(name=name, label=label, value=values[name], unit=unit, meaning=meaning)
        for name, (label, unit, meaning) in MEANINGS.items()
        if name in values
    ]
    data: dict[str, Any] = result.to_dict()
    return AnalyticsPublic.model_validate(
        {
            **{
                k: data[k]
                for k in ("duration", "speakers", "speaker_confidence", "edges_from_voice")
            },
            "note": NOTE,
            "how_sure": how_sure(result),
            "figures": figures,
            "talk": data["talk"],
            "timeline": data["timeline"],
            "questions": data["questions"],
        }
    )
