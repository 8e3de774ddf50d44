"""Suggested strands for a clip: rank a framework's strands against the clip's words and figures.

BM25 (the `bm25s` library) over each "learn how to" strand's text, its heading and the cue
phrases in strand-cues.yaml, with the clip's own words as the query. Figures from the talk
analytics (long or short waits, many closed questions, long teacher talk) add curated words to
the query, so they pull the strands that discuss them. Each suggestion says why: the words and
figures that matched. Only a suggestion; the mentor confirms. Pure: no database, no storage.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s
import yaml

from models.framework import stems

CUES = Path(__file__).with_name("strand-cues.yaml")
BUILTIN_FRAMEWORK = Path(__file__).parent / "frameworks" / "ecf-2019.yaml"
"""The framework the cue phrases and the measured figures are for."""
MAX_SUGGESTIONS = 3
BM25_K1 = 1.5
BM25_B = 0.5
"""Weaker length normalisation than BM25's usual 0.75: a strand's document is mostly its cue
list, whose length says how much a curator wrote, not how diffuse the strand is (0.3-0.5 scored
one clip better than 0.75 on the tuning sets, benchmarks/strands.py)."""

_STOP_TEXT = """a about after again all also am an and any are as at be because been before being
    but by
    can could did do does doing don done for from get got go going gonna had has have having he
    her here him his how i if in into is it its it's just let let's me my no not now of off ok
    okay on one or our out over please right really she so some than that that's the their them
    then there these they this those to too um uh up us very was we we're well were what when
    where which while who will with would yeah yes you you're your yours i'm i'll i've i'd
    we'll we've you'll you've he's she's there's here's what's it'll that'll isn't can't won't
    didn't doesn't"""
STOPWORDS = frozenset(_STOP_TEXT.split())
"""Words too common in classroom talk to say anything about a strand (before stemming)."""


@dataclass(frozen=True)
class ClipFigures:
    """The talk analytics of a clip's range, as plain numbers (made in api/ from pipeline's)."""

    questions: int = 0
    open_questions: int = 0
    closed_questions: int = 0
    mean_wait: float | None = None
    longest_teacher_talk: float | None = None
    pupil_share: float | None = None


@dataclass(frozen=True)
class FigureRule:
    name: str
    """A key of `from_figures` in strand-cues.yaml."""
    applies: Callable[[ClipFigures], bool]
    says: Callable[[ClipFigures], str]
    """The figure in plain words, shown in "why"."""


FIGURE_RULES: tuple[FigureRule, ...] = (
    FigureRule(
        "long_wait",
        lambda f: f.questions >= 1 and f.mean_wait is not None and f.mean_wait >= 3.0,
        lambda f: f"average wait after a question {f.mean_wait:.1f} s",
    ),
    FigureRule(
        "short_wait",
        lambda f: f.questions >= 2 and f.mean_wait is not None and f.mean_wait < 1.0,
        lambda f: f"answers came {f.mean_wait:.1f} s after questions on average",
    ),
    FigureRule(
        "closed_questions",
        lambda f: f.closed_questions >= 3 and f.closed_questions > 2 * f.open_questions,
        lambda f: f"{f.closed_questions} closed questions, {f.open_questions} open",
    ),
    FigureRule(
        "open_questions",
        lambda f: f.open_questions >= 2 and f.open_questions >= f.closed_questions,
        lambda f: f"{f.open_questions} open questions, {f.closed_questions} closed",
    ),
    FigureRule(
        "long_teacher_talk",
        lambda f: f.longest_teacher_talk is not None and f.longest_teacher_talk >= 60.0,
        lambda f: f"{f.longest_teacher_talk:.0f} s of unbroken teacher talk",
    ),
    FigureRule(
        "much_pupil_talk",
        lambda f: f.pupil_share is not None and f.pupil_share >= 0.4,
        lambda f: f"pupils talk for {f.pupil_share:.0%} of the clip",
    ),
)
"""When a clip's figures pull in the words of a `from_figures` entry. One rule in one place."""


@dataclass(frozen=True)
class StrandText:
    """A strand to rank: its code, its own title and its heading's title."""

    id: str
    code: str
    title: str
    heading: str = ""


@dataclass(frozen=True)
class Suggestion:
    strand_id: str
    code: str
    title: str
    score: float
    words: tuple[str, ...]
    """The clip's words that matched, most telling first."""
    figures: tuple[str, ...]
    """The figures whose words matched."""

    @property
    def why(self) -> str:
        parts = []
        if self.words:
            parts.append("the clip says " + ", ".join(f'"{w}"' for w in self.words))
        if self.figures:
            parts.append("; ".join(self.figures))
        return ("Suggested because " + "; ".join(parts) + ".") if parts else ""


def tokens_with_words(text: str) -> list[tuple[str, str]]:
    """(token, the words it came from): stems of the content words, and each pair of adjacent
    content words as one more token, so "thinking time" counts more than "thinking" and "time"."""
    words = [w.strip("'") for w in re.findall(r"[a-z0-9']+", text.lower())]
    kept = [(i, w) for i, w in enumerate(words) if w and w not in STOPWORDS]
    pairs = [(_stem_word(w), i, w) for i, w in kept]
    out = [(token, w) for token, _, w in pairs if token]
    out += [
        (f"{a}_{c}", f"{b} {d}")
        for (a, i, b), (c, j, d) in itertools.pairwise(pairs)
        if j == i + 1 and a and c
    ]
    return out


def _stem_word(word: str) -> str:
    found = stems(word.replace("'", ""))
    return found[0] if found else ""


def tokens(text: str) -> list[str]:
    return [t for t, _ in tokens_with_words(text)]


@functools.cache
def cue_file() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(CUES.read_text(encoding="utf-8"))
    return data


def cues_for(framework_id: str) -> dict[str, list[str]]:
    cues: dict[str, list[str]] = (cue_file().get("frameworks") or {}).get(framework_id) or {}
    return {str(code): [str(p) for p in phrases] for code, phrases in cues.items()}


def figure_words(figures: ClipFigures) -> list[tuple[str, str]]:
    """(cue words, the figure in plain words) for each rule the clip's figures meet."""
    words = cue_file().get("from_figures") or {}
    return [
        (" ; ".join(words.get(rule.name) or []), rule.says(figures))
        for rule in FIGURE_RULES
        if rule.applies(figures)
    ]


class StrandRanker:
    """A BM25 index over one framework's strands, built once and reused for every clip."""

    def __init__(self, strands: Sequence[StrandText], cues: dict[str, list[str]]) -> None:
        self.strands = list(strands)
        self.docs = [
            tokens(" ; ".join([s.title, s.heading, *cues.get(s.code, [])])) for s in self.strands
        ]
        self.vocab = [set(doc) for doc in self.docs]
        self.index = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        self.index.index(self.docs, show_progress=False)

    def suggest(
        self, text: str, figures: ClipFigures = ClipFigures(), limit: int = MAX_SUGGESTIONS
    ) -> list[Suggestion]:
        """Up to `limit` strands, best first; none when nothing in the clip matches."""
        said = tokens_with_words(text)
        surface: dict[str, str] = {}
        for token, words in said:
            surface.setdefault(token, words)
        from_figures = [(tokens(words), says) for words, says in figure_words(figures)]
        query = list(surface) + [t for toks, _ in from_figures for t in toks]
        if not query:
            return []
        scores = self.index.get_scores(query)
        order = sorted(range(len(self.strands)), key=lambda i: (-scores[i], i))
        out: list[Suggestion] = []
        for i in order[:limit]:
            if scores[i] <= 0:
                break
            strand, vocab = self.strands[i], self.vocab[i]
            matched = [t for t in surface if t in vocab]
            # a pair says more than its words: show "thinking time", not also "thinking"
            shown = [t for t in matched if "_" in t]
            covered = {part for t in shown for part in t.split("_")}
            shown += [t for t in matched if "_" not in t and t not in covered]
            out.append(
                Suggestion(
                    strand_id=strand.id,
                    code=strand.code,
                    title=strand.title,
                    score=round(float(scores[i]), 3),
                    words=tuple(surface[t] for t in shown[:5]),
                    figures=tuple(says for toks, says in from_figures if vocab & set(toks)),
                )
            )
        return out


@functools.lru_cache(maxsize=8)
def ranker(framework_id: str, strands: tuple[StrandText, ...]) -> StrandRanker:
    """The ranker for a framework's current strands (cached while their texts stay the same)."""
    return StrandRanker(strands, cues_for(framework_id))


def strand_texts(strands: Sequence[Any]) -> tuple[StrandText, ...]:
    """The "learn how to" strands (rows or parsed data), each with its heading's title: the
    level a mentor tags a clip at."""
    titles = {s.id: s.title for s in strands}
    return tuple(
        StrandText(s.id, s.code, s.title, titles.get(s.parent_id or "", ""))
        for s in strands
        if str(getattr(s.kind, "value", s.kind)) == "learn_how"
    )
