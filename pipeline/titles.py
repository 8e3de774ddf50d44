"""Titles for suggested clips that say what happens in them, from the words alone.

"Questions to the class on equivalent fractions" tells a mentor more than the clip's first words
("So if we look at this one"). A title is an activity, read from the shape of the sentences
(questions, instructions, talk with a partner, praise, explanation), and a topic: the content
words the passage repeats, a repeated pair of them ("equivalent fractions") before a single word.
Pure functions over text; no model, so it runs anywhere the transcript does.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence

_STOPWORDS_TEXT = """
    a about above after again against all also am an and any are aren't as at be because
    been before being below between both but by can can't could couldn't did didn't do does
    doesn't doing don't down during each even every few for from further get gets getting go
    goes going gonna got had hadn't has hasn't have haven't having he he'd he'll he's her
    here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is
    isn't it it's its itself just know let let's like look lot lots me more most much must
    mustn't my myself need no nor not now of off ok okay on once one only or other ought our
    ours ourselves out over own put really right said say says see shall she she'd she'll
    she's should shouldn't so some such sure take than thank thanks that that's the their
    theirs them themselves then there there's these they they'd they'll they're they've
    thing things think this those though through to today too try um uh under until up us
    very want was wasn't way we we'd we'll we're we've well were weren't what what's when
    when's where where's whether which while who who's whom why why's will with won't would
    wouldn't yeah yes yet you you'd you'll you're you've your yours yourself yourselves two
    three four five six seven eight nine ten first next minute minutes everyone everybody
    anyone somebody someone something anything nothing please good great class pupils guys
    hands hand eyes pens pen boards board books book page date title whiteboard worksheet
    silence quietly lesson starter question questions answer answers seconds same talk tell
    sharing share explain explanation correct done fact note ticket partner partners
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
_INSTRUCTION_VERBS_TEXT = """
    open close turn write put take pick start stop look listen read copy underline draw
    stand sit come move pass hand finish check swap share work get make find show label fill
    highlight circle tick
"""
INSTRUCTION_VERBS = frozenset(_INSTRUCTION_VERBS_TEXT.split())
TALK_CUES = ("partner", "pairs", "in pairs", "your group", "groups", "discuss", "talk to")
PRAISE_CUES = ("well done", "excellent", "brilliant", "fantastic", "great job", "good job",
               "that's right", "perfect", "nice work", "lovely")  # fmt: skip
WORD = re.compile(r"[a-z][a-z'-]*[a-z]|[a-z]")


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.?!…])\s+", text.strip()) if s]


def content_words(sentence: str) -> list[str]:
    return [w for w in WORD.findall(sentence.lower()) if w not in STOPWORDS and len(w) > 2]


def _key(phrase: str) -> str:
    """Singular and plural count as one ("fraction", "fractions")."""
    return " ".join(
        w[:-1] if w.endswith("s") and not w.endswith("ss") else w for w in phrase.split()
    )


def topic(text: str) -> tuple[str, int]:
    """The passage's most repeated pair of adjacent content words, else its most repeated word,
    with how often it was said; ("", 0) when there are no content words. The plural spelling is
    shown when the passage used it ("equivalent fractions")."""
    counts: Counter[str] = Counter()
    spelled: dict[str, set[str]] = {}
    single_counts: Counter[str] = Counter()
    for sentence in sentences(text):
        words = WORD.findall(sentence.lower())
        for a, b in itertools.pairwise(words):
            if a not in STOPWORDS and b not in STOPWORDS and len(a) > 2 and len(b) > 2:
                phrase = f"{a} {b}"
                counts[_key(phrase)] += 1
                spelled.setdefault(_key(phrase), set()).add(phrase)
        for word in content_words(sentence):
            single_counts[_key(word)] += 1
            spelled.setdefault(_key(word), set()).add(word)
    if not single_counts:
        return "", 0
    key, count = single_counts.most_common(1)[0]
    # A repeated pair ("equivalent fractions") names the topic better than a word alone.
    repeated = [(c, k) for k, c in counts.items() if c >= 2]
    if repeated:
        count, key = max(repeated)
    return max(spelled[key], key=lambda p: (p.endswith("s"), p)), count


def activity(text: str) -> str | None:
    """What the passage mostly is: questions, instructions, partner talk, praise, or None."""
    parts = sentences(text)
    if not parts:
        return None
    lower = text.lower()
    questions = sum(s.endswith("?") for s in parts)
    instructions = sum(
        1 for s in parts if (w := WORD.findall(s.lower())) and w[0] in INSTRUCTION_VERBS
    )
    if any(cue in lower for cue in TALK_CUES):
        return "talk"
    if questions >= 2 and questions * 3 >= len(parts):
        return "questions"
    if instructions >= 2 and instructions * 3 >= len(parts):
        return "instructions"
    if any(cue in lower for cue in PRAISE_CUES) and len(parts) <= 4:
        return "praise"
    return None


TEMPLATES = {
    "questions": ("Questions to the class on {topic}", "Questions to the class"),
    "instructions": ("Instructions for {topic}", "Giving instructions"),
    "talk": ("Partner talk on {topic}", "Partner talk"),
    "praise": ("Praise and feedback on {topic}", "Praise and feedback"),
    None: ("Explaining {topic}", ""),
}


def describe(text: str, fallback: str = "", lesson_topic: str = "") -> str:
    """A title saying what happens in `text`: its activity and topic, or `fallback` when the
    words show neither. A passage that names no topic of its own but has a clear activity takes
    the lesson's topic when it mentions it."""
    kind, (subject, said) = activity(text), topic(text)
    with_topic, without = TEMPLATES[kind]
    if said < 2 and kind is not None and lesson_topic and _key(lesson_topic) in _key(text.lower()):
        subject, said = lesson_topic, 2
    if subject and said >= 2:
        return with_topic.format(topic=subject)
    return without or fallback


def describe_all(texts: Sequence[str], fallbacks: Sequence[str]) -> list[str]:
    """Titles for consecutive passages of one lesson; two neighbours with the same title are
    told apart by the second's opening words, so a mentor can tell suggestions apart."""
    lesson_topic = topic(" ".join(texts))[0]
    titles = [describe(t, f, lesson_topic) for t, f in zip(texts, fallbacks, strict=True)]
    for i in range(1, len(titles)):
        if titles[i] and titles[i] == titles[i - 1] and fallbacks[i]:
            titles[i] = f"{titles[i]}: {fallbacks[i]}"
    return titles
