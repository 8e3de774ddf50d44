"""Pupils' names in transcripts: finding them (with room for the model's mishearings) and
replacing them by "[pupil]" in what people outside the coaching pair read and hear.

A class list is a few dozen first names and nicknames. A transcript word is taken for a name when:
- it is the name, ignoring case, accents and a possessive 's; or
- it is capitalised and within one edit of the name (two for names of seven letters or more)
  after a spelling fold (ph->f, y->i, c/ck->k, doubled letters once), so "Jaden", "Kaitlin" and
  "Aysha" are caught for Jayden, Caitlyn and Aisha; names of three letters or fewer match only
  exactly, and a word that is itself a common English word never matches a name it is not.
Names that are also ordinary words (Will, May, Grace, Rose...) match only capitalised and not at
the start of a sentence, unless a comma follows ("Grace, sit down"): "Will you sit down" and "you
may go" keep their words. A name the model heard as some other ordinary word is not found: this
lowers the risk, it does not remove it (docs/privacy.md).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from rapidfuzz.distance import Levenshtein

from pipeline.transcript import Segment, Transcript, Word

PUPIL = "[pupil]"
MIN_FUZZY_LETTERS = 4

_COMMON_WORDS = """
    a about after again all also always am an and any april are art as ask at august autumn away
    back be because been before being best better big bill bob brook but by call came can chance
    chase close cole could crystal daisy dawn day dean did do does done down drew each eve even
    ever every faith far few find first for frank from gene get give go going good got grace
    great guy had harmony has have he heather her here hers him his holly honey hope how hunter i
    if in into iris is it its ivy jack jade jasmine jean jet jewel jewels joy june just keep kit
    know last lily long look made make many mark mason max may me melody miles more most much
    must my near never new next nick no norm not now of off ok okay old on once one only or other
    our out over pat pearl penny poppy rain ray read really reed rich right rob robin rod rose
    ruby sage said same sandy say see she should sky so some star stone storm such sue summer
    sunny take taylor tell than that the their them then there these they thing think this those
    time to too two under up us very violet wade want was way we well were what when where which
    while who why will willow with would yes yet you your
    hi hey hello thanks thank please sorry sir miss mrs mr ms
"""
COMMON_WORDS = frozenset(_COMMON_WORDS.split())
"""Ordinary words a name may also be, or a misheard name may look like; kept small on purpose."""

ALWAYS_CAPITAL = frozenset({"april", "may", "june", "august"})
"""Names that are also words written with a capital anyway (months): taken for a name only when
set off by a comma or ending an exclamation or question ("Thank you, May." "May, read on.")."""

_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_SENTENCE_END = re.compile(r"[.?!]['\"’”)]*\s*$")


def fold(text: str) -> str:
    """Lower case without accents and without a possessive 's: how names are compared."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in plain if not unicodedata.combining(c)).replace("’", "'")
    return plain.removesuffix("'s").replace("'", "")


def sound_key(folded: str) -> str:
    """A spelling fold for the usual ways one name is written several ways."""
    key = folded.replace("ph", "f").replace("ck", "k").replace("c", "k").replace("y", "i")
    return re.sub(r"(.)\1+", r"\1", key)


@dataclass(frozen=True)
class PupilName:
    folded: str
    key: str
    common: bool


@dataclass(frozen=True)
class NameList:
    """A class list ready for matching; build it with `name_list`."""

    names: tuple[PupilName, ...]

    def __bool__(self) -> bool:
        return bool(self.names)


def name_list(entries: Iterable[str]) -> NameList:
    """The class list's names and nicknames (each may hold several words, e.g. "Mary Beth")."""
    seen: dict[str, PupilName] = {}
    for entry in entries:
        for token in _TOKEN.findall(entry):
            folded = fold(token)
            if folded and folded not in seen:
                seen[folded] = PupilName(folded, sound_key(folded), folded in COMMON_WORDS)
    return NameList(tuple(seen.values()))


def is_name(token: str, names: NameList, *, sentence_start: bool, set_off: bool) -> bool:
    """Whether one word of a transcript (letters only) is a pupil's name, in its place;
    `set_off`: a comma next to it, or ! or ? right after it (how a name is called)."""
    folded = fold(token)
    if not folded:
        return False
    capital = token[:1].isupper()
    for name in names.names:
        if folded == name.folded:
            if not name.common:
                return True
            if name.folded in ALWAYS_CAPITAL:
                if capital and set_off:
                    return True
            elif capital and (not sentence_start or set_off):
                return True
            continue
        if name.common or folded in COMMON_WORDS or not capital:
            continue
        if len(name.folded) < MIN_FUZZY_LETTERS:
            continue
        allowed = 1 if len(name.key) < 7 else 2
        key = sound_key(folded)
        if key == name.key or Levenshtein.distance(key, name.key, score_cutoff=allowed) <= allowed:
            return True
    return False


def redact_text(
    text: str, names: NameList, *, sentence_start: bool = True, comma_before: bool = False
) -> tuple[str, bool]:
    """`text` with each name replaced by [pupil], and whether the text ends a sentence (so the
    next piece of text starts one). `sentence_start` and `comma_before` say what came before
    `text` (a word's transcript neighbours)."""
    if not names:
        return text, bool(_SENTENCE_END.search(text)) if text.strip() else sentence_start
    out: list[str] = []
    at = 0
    start = sentence_start
    for match in _TOKEN.finditer(text):
        out.append(text[at : match.start()])
        token = match.group()
        after = text[match.end() : match.end() + 1]
        before = text[: match.start()]
        comma = before.rstrip().endswith(",") or (comma_before and not before.strip())
        set_off = comma or after in (",", "!", "?")
        if is_name(token, names, sentence_start=start, set_off=set_off):
            possessive = re.search(r"['’]s$", token)
            out.append(PUPIL + (possessive.group() if possessive else ""))
        else:
            out.append(token)
        at = match.end()
        start = bool(_SENTENCE_END.search(text[at : _next_token(text, at)]))
    out.append(text[at:])
    if not text.strip():
        return text, sentence_start
    return "".join(out), start


def _next_token(text: str, at: int) -> int:
    found = _TOKEN.search(text, at)
    return found.start() if found else len(text)


def _redact_words(words: Sequence[Word], names: NameList) -> tuple[tuple[Word, ...], list[int]]:
    start = True
    kept: list[Word] = []
    hits: list[int] = []
    for i, word in enumerate(words):
        comma_before = i > 0 and words[i - 1].text.rstrip().endswith(",")
        shown, start = redact_text(
            word.text, names, sentence_start=start, comma_before=comma_before
        )
        if shown != word.text:
            hits.append(i)
            kept.append(replace(word, text=shown))
        else:
            kept.append(word)
    return tuple(kept), hits


def redact_names(transcript: Transcript, names: NameList) -> Transcript:
    """The transcript with every pupil's name (as `is_name` finds them) replaced by [pupil],
    in each word and in each segment's text."""
    if not names:
        return transcript
    segments: list[Segment] = []
    for segment in transcript.segments:
        text, _ = redact_text(segment.text, names)
        words, _ = _redact_words(segment.words, names)
        segments.append(Segment(segment.start, segment.end, text, words))
    return replace(transcript, segments=tuple(segments))


def name_times(transcript: Transcript, names: NameList) -> list[tuple[float, float]]:
    """When each name is said (start, end of its word), in transcript time, in order: what a
    shared clip's sound is silenced over."""
    if not names:
        return []
    times: list[tuple[float, float]] = []
    for segment in transcript.segments:
        _, hits = _redact_words(segment.words, names)
        times += [(segment.words[i].start, segment.words[i].end) for i in hits]
    return sorted(times)
