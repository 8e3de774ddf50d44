"""Talk analytics of a lesson: evidence for a mentor's conversation with a teacher, never a score.

A pure function of the transcript's word timings (plus, when known, where the audio holds speech
and who spoke when): no model, no I/O, plain dataclasses in and out, JSON-ready.

- **timeline**: runs of speech and silence. Words closer than `AnalyticsOptions.pause` belong to
  one run; a longer gap is silence. With speaker turns each run carries "teacher" or "pupil",
  without them every run is "speech".
- **longest stretches**: the longest runs of unbroken talk, per label.
- **questions**: utterances (words split at sentence ends, pauses and speaker changes) that are
  questions by their punctuation or by the word rules below, each open or closed by a second rule
  set. Written as word lists and small functions so a mentor could read (and argue with) them.
- **wait time**: after each question, the silence before anyone speaks again; the share of
  questions followed by at least `AnalyticsOptions.long_wait` (3 s, after Rowe's research on wait
  time).
- **pace**: words per minute of speech.

Why `speech` regions: Whisper stretches the last word of a phrase over the silence after it
(measured: "is?" timed 23.95-25.35 s for speech that ended at 24.11 s), which would shorten the
very gaps wait time measures. Voice-activity regions (Silero VAD, `pipeline.voice`) are exact to a
few hundredths of a second, so when given, the words' edges are moved to them (`clip_to_speech`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from pipeline.transcript import Transcript, Word

SPEECH = "speech"
SILENCE = "silence"
TEACHER = "teacher"
PUPIL = "pupil"
LABEL_ORDER = {TEACHER: 0, PUPIL: 1, SPEECH: 2}


@dataclass(frozen=True)
class Turn:
    """Who spoke from `start` to `end` (seconds): "teacher" or "pupil" (pipeline.speakers)."""

    start: float
    end: float
    label: str


@dataclass(frozen=True)
class AnalyticsOptions:
    pause: float = 1.0
    """A gap between words at least this long (seconds) is silence on the timeline and ends a
    stretch of talk; shorter ones are the breaths and hesitations of one stretch."""
    utterance_gap: float = 0.8
    """A gap this long also ends an utterance (a sentence Whisper wrote without a full stop)."""
    long_wait: float = 3.0
    """Wait time that research on questioning counts as long enough for pupils to think."""
    stretches: int = 5
    """How many of the longest stretches to keep per label."""


@dataclass(frozen=True)
class Run:
    start: float
    end: float
    label: str
    """"speech", "teacher", "pupil" or "silence"."""
    words: int = 0

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Question:
    start: float
    end: float
    text: str
    kind: str
    """"open" or "closed"."""
    speaker: str
    wait: float
    """Seconds of silence after the question before anyone speaks (or the recording ends)."""
    answered_by: str | None
    """The label of the next speech, None when nobody speaks again."""


@dataclass(frozen=True)
class Talk:
    """Speech time, words and pace of one label (or of all speech)."""

    label: str
    seconds: float
    share: float
    """Of the recording's duration."""
    words: int
    words_per_minute: float | None
    longest: tuple[Run, ...] = ()


@dataclass(frozen=True)
class TalkAnalytics:
    duration: float
    speech_seconds: float
    silence_seconds: float
    talk: tuple[Talk, ...]
    timeline: tuple[Run, ...]
    questions: tuple[Question, ...]
    questions_per_ten_minutes: float | None
    open_questions: int
    closed_questions: int
    mean_wait: float | None
    long_wait_share: float | None
    """Share of questions followed by at least `options.long_wait` seconds."""
    words_per_minute: float | None
    speakers: bool
    """Whether the speech is split into teacher and pupil (speaker turns were given)."""
    speaker_confidence: float | None = None
    """How sure the speaker split is (0-1, from pipeline.speakers), None without a split."""
    edges_from_voice: bool = False
    """Whether word edges were sharpened by voice-activity regions (wait times are then exact
    to about 0.1 s; from word times alone the wait after a phrase can be short by a second)."""
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TalkAnalytics:
        def runs(items: Iterable[Mapping[str, Any]]) -> tuple[Run, ...]:
            return tuple(Run(**item) for item in items)

        return cls(
            duration=float(data["duration"]),
            speech_seconds=float(data["speech_seconds"]),
            silence_seconds=float(data["silence_seconds"]),
            talk=tuple(Talk(**{**t, "longest": runs(t.get("longest", ()))}) for t in data["talk"]),
            timeline=runs(data["timeline"]),
            questions=tuple(Question(**q) for q in data["questions"]),
            questions_per_ten_minutes=data["questions_per_ten_minutes"],
            open_questions=int(data["open_questions"]),
            closed_questions=int(data["closed_questions"]),
            mean_wait=data["mean_wait"],
            long_wait_share=data["long_wait_share"],
            words_per_minute=data["words_per_minute"],
            speakers=bool(data["speakers"]),
            speaker_confidence=data.get("speaker_confidence"),
            edges_from_voice=bool(data.get("edges_from_voice", False)),
            options=dict(data.get("options", {})),
        )


def turns_from_dicts(items: Iterable[Mapping[str, Any]]) -> list[Turn]:
    """Turns as stored in JSON: [{"start", "end", "label"}, ...]."""
    return [Turn(float(t["start"]), float(t["end"]), str(t["label"])) for t in items]


def of_lesson(
    transcript: Transcript,
    duration: float | None,
    speech: Mapping[str, Any] | None = None,
    speakers: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    options: AnalyticsOptions = AnalyticsOptions(),
) -> TalkAnalytics:
    """`analyse` from what processing stores: speech.json (`pipeline.voice`) and speakers.json
    ({"turns": [{"start", "end", "label"}], "confidence": 0-1} or the bare list of turns), each
    optional. One place, so the worker and a transcript correction compute the same figures."""
    regions = [(float(a), float(b)) for a, b in speech.get("regions", ())] if speech else None
    turns: list[Turn] | None = None
    confidence = None
    if isinstance(speakers, Mapping):
        turns = turns_from_dicts(speakers.get("turns", ()))
        raw = speakers.get("confidence")
        confidence = None if raw is None else float(raw)
    elif speakers is not None:
        turns = turns_from_dicts(speakers)
    result = analyse(transcript, duration=duration, turns=turns, speech=regions, options=options)
    return replace(
        result,
        speaker_confidence=confidence if result.speakers else None,
        edges_from_voice=regions is not None,
    )


def of_clip(
    shown: Transcript,
    start: float,
    end: float,
    speech: Mapping[str, Any] | None = None,
    speakers: Mapping[str, Any] | None = None,
    options: AnalyticsOptions = AnalyticsOptions(),
) -> TalkAnalytics:
    """`of_lesson` over a clip's span, timed from its start like its captions: `shown` is the
    clip's transcript as its viewers may read it (`pipeline.redact.shown_clip_transcript`), and
    the lesson's speech regions and speaker turns are cut to [start, end] and shifted the same
    way. How sure the split is becomes the speech-time-weighted confidence of the turns inside
    the clip, not the whole lesson's."""
    length = max(end - start, 0.0)

    def inside(a: float, b: float) -> tuple[float, float] | None:
        a, b = max(a, start) - start, min(b, end) - start
        return (round(a, 3), round(b, 3)) if b > a else None

    cut_speech = None
    if speech is not None:
        spans = (inside(float(a), float(b)) for a, b in speech.get("regions", ()))
        cut_speech = {"regions": [list(span) for span in spans if span]}
    cut_speakers = None
    if speakers is not None:
        turns = []
        for turn in speakers.get("turns", ()):
            span = inside(float(turn["start"]), float(turn["end"]))
            if span:
                turns.append({**turn, "start": span[0], "end": span[1]})
        weight = sum(t["end"] - t["start"] for t in turns if "confidence" in t)
        sure = (
            sum(
                (t["end"] - t["start"]) * float(t["confidence"]) for t in turns if "confidence" in t
            )
            / weight
            if weight
            else speakers.get("confidence")
        )
        cut_speakers = {"turns": turns, "confidence": sure}
    return of_lesson(shown, length, cut_speech, cut_speakers, options)


# --- Question rules ------------------------------------------------------------------------------

WH_WORDS = {"what", "why", "how", "when", "where", "who", "whom", "whose", "which"}
AUXILIARIES = {
    "am", "is", "are", "was", "were", "do", "does", "did", "have", "has", "had", "can", "could",
    "will", "would", "shall", "should", "may", "might", "must",
    "isn't", "aren't", "wasn't", "weren't", "don't", "doesn't", "didn't", "haven't", "hasn't",
    "hadn't", "can't", "couldn't", "won't", "wouldn't", "shouldn't",
    "what's", "who's", "where's", "how's", "when's", "why's",
}  # fmt: skip
SUBJECTS = {
    "i", "you", "we", "they", "he", "she", "it", "there", "this", "that", "these", "those",
    "anyone", "anybody", "someone", "somebody", "everyone", "everybody", "people", "the", "a",
    "an", "your", "my", "our", "their", "his", "her", "its", "all", "any", "each", "both",
    "y'all", "u",
}  # fmt: skip
"""Words that start a subject: after an opening auxiliary they make a yes/no question
("Is *it* even?", "Does *anyone* know?")."""
PRONOUNS = {
    "i", "you", "we", "they", "he", "she", "it", "there", "this", "that", "these", "you've",
    "we've", "they've", "i've", "you're", "we're", "they're", "it's", "that's", "i'd", "you'd",
    "we'd", "we'll", "you'll", "i'll", "i'm", "he's", "she's", "there's",
}  # fmt: skip
"""After a wh-word, a pronoun with no auxiliary between makes a clause, not a question
("What *we* need is...", "When *you* finish...")."""
TAGS = (
    "isn't it", "aren't they", "aren't we", "aren't you", "don't they", "don't we", "don't you",
    "doesn't it", "didn't it", "didn't we", "didn't you", "didn't they", "can't we", "can't you",
    "can't it", "won't it", "won't we", "wasn't it", "weren't they", "haven't we", "hasn't it",
    "is it", "are they", "do they", "does it", "right", "yeah", "okay", "ok", "eh", "yes",
    "agreed", "shouldn't it", "shouldn't we", "couldn't we", "wouldn't it", "isn't that right",
)  # fmt: skip
"""Endings after a comma that turn a statement into a (closed) tag question."""
ELICITATIONS = (
    "can anyone", "can anybody", "can someone", "can somebody", "could anyone", "could anybody",
    "could someone", "does anyone", "does anybody", "does someone", "has anyone", "has anybody",
    "did anyone", "did anybody", "is there anyone", "is there anybody", "who can", "who could",
    "who would", "who will", "who knows", "who remembers", "who thinks", "who has", "who's got",
    "who wants to", "anyone want to", "anybody want to", "any ideas", "any guesses",
    "any questions", "anyone know", "anybody know",
)  # fmt: skip
"""The ways a teacher throws a question to the class."""
REQUEST_VERBS = {
    "sit", "stand", "put", "pass", "open", "close", "turn", "stop", "come", "go", "get", "take",
    "pick", "hand", "tidy", "line", "hold", "wait", "listen", "look", "move", "bring", "keep",
    "write", "copy", "face", "pop", "grab", "fetch", "switch", "hang", "shut", "quieten", "pack",
}  # fmt: skip
"""What "can you ..., please" asks a class to do: a request in question form, not a question."""
REQUEST_OPENINGS = (
    "can you", "could you", "will you", "would you", "can we", "could we", "can everyone",
    "can everybody", "could everyone", "could everybody", "will everyone", "will everybody",
)  # fmt: skip

NUMBERS = {
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "twenty", "thirty", "forty", "fifty", "hundred", "half", "a", "an",
}  # fmt: skip
"""After an opening "is"/"are"..., a number is the subject too ("Is twelve even?")."""
WH_VERBS = {
    "makes", "made", "happens", "happened", "comes", "came", "goes", "went", "causes", "caused",
    "helps", "means", "tells", "shows", "would", "could", "might", "should", "not", "else",
}  # fmt: skip
"""A wh-word directly before one of these opens a question ("What makes you say that",
"Why not"), even with no auxiliary after it."""
PREPOSITION_WH = ("in what", "to what", "at what", "on what", "for what", "with what",
                  "from what", "by what", "in which", "of what")  # fmt: skip
IMPERATIVE_AUX = {"have", "do"}
"""Openings that are also imperatives before an article ("Have a think.", "Do the next one.")."""
ARTICLES = {"a", "an", "the", "some", "your", "this", "that", "it"}

OPEN_OPENINGS = ("why", "how come", "in what way", "in what ways", "to what extent")
"""A question opening like this asks for reasons: open."""
CLOSED_HOW = {
    "many", "much", "old", "long", "far", "often", "big", "tall", "high", "heavy", "fast",
    "deep", "wide", "quickly", "hot", "cold", "do you spell", "do we spell", "do you say",
    "do we write", "do you write", "do you pronounce",
}  # fmt: skip
"""After "how", words that ask for a quantity or a fact: closed ("How many legs...?")."""
OPEN_PHRASES = (
    "think", "reckon", "notice", "noticed", "wonder", "predict", "explain", "describe",
    "justify", "convince", "imagine", "suggest", "feel", "believe", "would happen", "will happen",
    "might happen", "could happen", "what if", "what else", "what might", "what could",
    "what would", "the difference", "differences", "similar", "compare", "what makes",
    "what made", "what other", "what kind", "what kinds", "what sort", "what sorts",
    "what are some", "what evidence", "what does that tell", "what does this tell",
    "what did you learn", "what have you learned", "what have you learnt", "what did you find",
    "what did you discover", "what strategies", "what strategy", "what ideas", "what questions",
    "how did you", "how do you know", "how would", "how could", "how might", "how else",
    "tell me more", "tell us more", "what happens", "what happened", "say more", "because",
    "how can we", "how can you", "how do we", "how does", "how do", "how did", "how is", "how are",
    "what's the reason", "what is the reason", "any ideas", "any thoughts", "your opinion",
    "your view", "why", "what do you mean", "interesting", "mean by", "who agrees",
    "who disagrees", "agree or disagree", "how was", "how were", "what stands out",
    "what's going on", "what is going on", "what do we know about",
)  # fmt: skip
"""Words that ask for reasoning, ideas or many possible answers: open, unless the question is
a quantity ("how many") or a yes/no question about a fact (see `kind_of`)."""
YES_NO_OPEN = (
    "explain", "describe", "tell me more", "tell us more", "say more", "tell me why",
    "tell me how", "tell us why", "tell us how", "why", "how", "what you think", "what you notice",
    "what you noticed", "what might", "what would", "what could", "what happens",
    "what happened", "what else", "what do you think", "what made", "what makes", "think of",
    "another way", "other ways", "idea", "ideas",
)  # fmt: skip
"""Inside a yes/no form ("Can you explain...?", "Can anyone tell me why...?") these still
ask for reasoning: open. Without them a yes/no question is closed."""

_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


def tokens(text: str) -> list[str]:
    """Lower-case words with their apostrophes ("isn't"), punctuation dropped."""
    return [t.replace("’", "'") for t in _TOKEN.findall(text.lower())]


def _has(words: Sequence[str], phrase: str) -> bool:
    target = phrase.split()
    n = len(target)
    return any(list(words[i : i + n]) == target for i in range(len(words) - n + 1))


def _starts(words: Sequence[str], phrases: Iterable[str]) -> bool:
    return any(list(words[: len(p.split())]) == p.split() for p in phrases)


LEAD_INS = {
    "so", "and", "but", "ok", "okay", "right", "now", "well", "then", "alright", "um", "erm",
    "er", "uh", "oh", "hmm", "yes", "good", "great", "lovely", "hands",
}  # fmt: skip
"""Fillers a teacher puts before a question ("Okay, so why...?"): skipped when looking at how
the question opens."""


def _clause(text: str) -> list[str]:
    """The words of the last clause that could be the question (after "Right, so ...")."""
    parts = [p for p in re.split(r"[,;:.!]\s+|\s+-\s+", text.strip()) if tokens(p)]
    return _without_lead_ins(tokens(parts[-1]) if parts else [])


def _without_lead_ins(words: Sequence[str]) -> list[str]:
    out = list(words)
    while len(out) > 1 and out[0] in LEAD_INS:
        out = out[1:]
    return out


def _is_request(words: Sequence[str]) -> bool:
    """ "Can you put your pens down, please?": a directive in question form."""
    if not _starts(words, REQUEST_OPENINGS):
        return False
    rest = [w for w in words[2:] if w not in ("all", "now", "just", "please", "quickly")]
    return bool(rest) and (rest[0] in REQUEST_VERBS or "please" in words)


def _wh_question(words: Sequence[str]) -> bool:
    """A wh-word opening a question ("What is...", "Why did...", "Who knows..."), not a clause
    ("What we need is...", "When you finish, ...")."""
    if not words or words[0] not in WH_WORDS | {"what's", "who's", "where's", "how's"}:
        return False
    if words[0].endswith("'s") or len(words) == 1:
        return True
    second = words[1]
    if second in AUXILIARIES or second in WH_VERBS:
        return True
    if words[0] == "how" and (second in CLOSED_HOW or second in ("come", "about")):
        return True
    if words[0] in ("what", "which", "whose") and second not in PRONOUNS:
        # "What colour is...", "Which number comes next": a noun then the verb
        return (
            any(w in AUXILIARIES or w in WH_VERBS for w in words[2:5])
            or words[0] == "which"
            or (len(words) > 2 and words[2] in WH_VERBS | {"comes", "goes", "is", "are"})
        )
    # "Who knows...", "Who wants to..."; not "Who I'd like to hear from is..."
    return words[0] in ("who", "whom") and second not in PRONOUNS


def _inverted(words: Sequence[str], text: str) -> bool:
    """Auxiliary inversion: "Is it even", "Does anyone know", "Was Henry the Eighth a Tudor"."""
    if len(words) < 2 or words[0] not in AUXILIARIES or words[0].endswith("'s"):
        return False
    if words[0] in IMPERATIVE_AUX and words[1] in ARTICLES:
        return False
    if words[1] in SUBJECTS or words[1] in NUMBERS:
        return True
    # a name after the auxiliary: capitalised in the transcript
    originals = [w for w in re.findall(r"[A-Za-z']+", text)]
    at = next((i for i, w in enumerate(originals) if w.lower() == words[0]), None)
    return at is not None and at + 1 < len(originals) and originals[at + 1][:1].isupper()


def is_question(text: str) -> bool:
    """A question by its question mark, or by its words when the transcript has none."""
    stripped = text.strip()
    all_words = tokens(stripped)
    if not all_words:
        return False
    words = _clause(stripped) or all_words
    opening = _without_lead_ins(all_words)
    if _is_request(words) or _is_request(opening):
        return False
    if stripped.endswith("?"):
        return True
    if _starts(words, ELICITATIONS) or _starts(all_words, ELICITATIONS):
        return True
    if _wh_question(words) or _starts(words, PREPOSITION_WH):
        return True
    if _inverted(words, stripped):
        return True
    return _tagged(stripped)


def _tagged(text: str) -> bool:
    """A statement with a tag after its last comma: "It's a triangle, isn't it"."""
    tail = re.split(r",\s*", text.strip().rstrip("?.!"))
    return len(tail) > 1 and " ".join(tokens(tail[-1])) in TAGS


def kind_of(text: str) -> str:
    """ "open" when the question asks for reasons, ideas or many answers, else "closed"."""
    words = _clause(text) or tokens(text)
    if not words:
        return "closed"
    if (
        words[0] == "how"
        and len(words) > 1
        and (words[1] in CLOSED_HOW or " ".join(words[1:4]) in CLOSED_HOW)
    ):
        return "closed"
    if _starts(words, OPEN_OPENINGS):
        return "open"
    if _tagged(text):
        return "closed"
    yes_no = words[0] in AUXILIARIES and not words[0].endswith("'s")
    elicit = _starts(words, ELICITATIONS)
    if yes_no or elicit:
        return "open" if any(_has(words, p) for p in YES_NO_OPEN) else "closed"
    return "open" if any(_has(words, p) for p in OPEN_PHRASES) else "closed"


# --- Timing --------------------------------------------------------------------------------------


def clip_to_speech(words: Sequence[Word], speech: Sequence[tuple[float, float]]) -> list[Word]:
    """Word edges moved to the voice-activity regions (see the module docstring).

    Each word is trimmed to the region it overlaps first; the first word of a region starts
    where the region starts and the last one ends where it ends, since Whisper's edges are off
    in both directions by up to a few tenths of a second and the regions are not. A word in no
    region (the VAD missed a quiet one) keeps its times.
    """
    regions = sorted((a, b) for a, b in speech if b > a)
    placed: list[int | None] = []
    i = 0
    for w in words:
        while i < len(regions) and regions[i][1] <= w.start:
            i += 1
        placed.append(i if i < len(regions) and regions[i][0] <= w.end else None)
    out: list[Word] = []
    for n, (w, r) in enumerate(zip(words, placed, strict=True)):
        if r is None:
            out.append(w)
            continue
        a, b = regions[r]
        first = n == 0 or placed[n - 1] != r
        last = n == len(words) - 1 or placed[n + 1] != r
        start = a if first else min(max(w.start, a), b)
        end = b if last else min(max(w.end, a), b)
        out.append(Word(start, max(end, start), w.text, w.probability) if end > start else w)
    return out


def _label_words(words: Sequence[Word], turns: Sequence[Turn] | None) -> list[str]:
    """The label of each word: the turn it overlaps most, else the nearest turn.

    One sweep over both sorted lists, so an hour's words and turns take milliseconds."""
    if not turns:
        return [SPEECH] * len(words)
    ordered = sorted(turns, key=lambda t: (t.start, t.end))
    labels = []
    i = 0
    for w in words:
        while i < len(ordered) - 1 and ordered[i].end <= w.start:
            i += 1
        best, overlap = ordered[i], 0.0
        j = i
        while j < len(ordered) and ordered[j].start < w.end:
            o = min(ordered[j].end, w.end) - max(ordered[j].start, w.start)
            if o > overlap:
                best, overlap = ordered[j], o
            j += 1
        if overlap <= 0:
            mid = (w.start + w.end) / 2
            near = ordered[max(i - 1, 0) : i + 1]
            best = min(near, key=lambda t: min(abs(t.start - mid), abs(t.end - mid)))
        labels.append(best.label)
    return labels


def _speech_runs(
    words: Sequence[Word], labels: Sequence[str], pause: float
) -> list[tuple[Run, list[int]]]:
    runs: list[tuple[Run, list[int]]] = []
    for i, (w, label) in enumerate(zip(words, labels, strict=True)):
        if runs:
            run, members = runs[-1]
            if label == run.label and w.start - run.end < pause:
                runs[-1] = (Run(run.start, max(run.end, w.end), label, run.words + 1), members)
                members.append(i)
                continue
        runs.append((Run(w.start, w.end, label, 1), [i]))
    return runs


def _timeline(speech: Sequence[Run], duration: float) -> list[Run]:
    out: list[Run] = []
    at = 0.0
    for run in speech:
        if run.start > at:
            out.append(Run(at, run.start, SILENCE))
        out.append(run)
        at = max(at, run.end)
    if duration > at:
        out.append(Run(at, duration, SILENCE))
    return out


def _utterances(words: Sequence[Word], labels: Sequence[str], gap: float) -> list[tuple[int, int]]:
    """[first, last] word indices of each utterance: split at sentence ends, pauses, speakers."""
    spans: list[tuple[int, int]] = []
    first = 0
    for i in range(len(words)):
        last = i == len(words) - 1
        if (
            last
            or re.search(r"[.?!…][\"')\]]*$", words[i].text)
            or words[i + 1].start - words[i].end >= gap
            or labels[i + 1] != labels[i]
        ):
            spans.append((first, i))
            first = i + 1
    return spans


def _r(x: float | None, places: int = 3) -> float | None:
    return None if x is None else round(x, places)


def analyse(
    transcript: Transcript,
    *,
    duration: float | None = None,
    turns: Sequence[Turn] | None = None,
    speech: Sequence[tuple[float, float]] | None = None,
    options: AnalyticsOptions = AnalyticsOptions(),
) -> TalkAnalytics:
    """The lesson's talk analytics (see the module docstring).

    `duration` defaults to the transcript's; `turns` (who spoke when) splits speech into teacher
    and pupil; `speech` (voice-activity regions) sharpens word edges before gaps are measured.
    """
    length = max(duration if duration is not None else transcript.duration, 0.0)
    words = sorted(
        (w for w in transcript.words if w.text.strip() and w.end >= w.start),
        key=lambda w: (w.start, w.end),
    )
    if speech is not None:
        words = clip_to_speech(words, speech)
    length = max(length, words[-1].end if words else 0.0)
    labels = _label_words(words, turns)
    runs = _speech_runs(words, labels, options.pause)
    speech_runs = [run for run, _ in runs]
    speech_seconds = sum(r.duration for r in speech_runs)
    minutes = speech_seconds / 60

    talk: list[Talk] = []
    for label in sorted(set(labels), key=lambda lab: (LABEL_ORDER.get(lab, 9), lab)):
        mine = [r for r in speech_runs if r.label == label]
        secs = sum(r.duration for r in mine)
        count = sum(r.words for r in mine)
        longest = sorted(mine, key=lambda r: (-round(r.duration, 3), r.start))[: options.stretches]
        talk.append(
            Talk(
                label,
                round(secs, 3),
                round(secs / length, 4) if length else 0.0,
                count,
                _r(count / (secs / 60), 1) if secs > 0 else None,
                tuple(_round_run(r) for r in longest),
            )
        )

    questions: list[Question] = []
    for first, last in _utterances(words, labels, options.utterance_gap):
        text = " ".join(w.text.strip() for w in words[first : last + 1])
        if not is_question(text):
            continue
        end = words[last].end
        if last + 1 < len(words):
            wait, answered = max(words[last + 1].start - end, 0.0), labels[last + 1]
        else:
            wait, answered = max(length - end, 0.0), None
        questions.append(
            Question(
                round(words[first].start, 3), round(end, 3), text, kind_of(text),
                labels[first], round(wait, 3), answered,
            )
        )  # fmt: skip
    waits = [q.wait for q in questions]
    return TalkAnalytics(
        duration=round(length, 3),
        speech_seconds=round(speech_seconds, 3),
        silence_seconds=round(max(length - speech_seconds, 0.0), 3),
        talk=tuple(talk),
        timeline=tuple(_round_run(r) for r in _timeline(speech_runs, length)),
        questions=tuple(questions),
        questions_per_ten_minutes=_r(len(questions) / (length / 600), 2) if length else None,
        open_questions=sum(q.kind == "open" for q in questions),
        closed_questions=sum(q.kind == "closed" for q in questions),
        mean_wait=_r(sum(waits) / len(waits)) if waits else None,
        long_wait_share=(
            _r(sum(w >= options.long_wait for w in waits) / len(waits), 4) if waits else None
        ),
        words_per_minute=_r(len(words) / minutes, 1) if minutes > 0 else None,
        speakers=bool(turns),
        options=asdict(options),
    )


def _round_run(run: Run) -> Run:
    return Run(round(run.start, 3), round(run.end, 3), run.label, run.words)
