"""What was said in a clip, as its review page shows it: the lesson's words inside the clip,
timed from its start, each with the model's probability, without the words of a blanked moment;
only for those who may see the clip."""

from __future__ import annotations

from typing import Any

from models.lesson import lesson_key
from models.queue import InProcessQueue
from tests.api.conftest import LESSON_SECONDS, WORDS, World, transcript_for

V1 = "/api/v1"


def _words(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for s in doc["segments"] for w in s["words"]]


def _lesson_words_in(start: float, end: float) -> list[str]:
    """The fixture transcript's words whose midpoint is inside [start, end] (lesson time)."""
    doc = transcript_for(WORDS, 0.5, LESSON_SECONDS - 0.5)
    return [w["text"] for w in _words(doc) if start <= (w["start"] + w["end"]) / 2 <= end]


def test_the_clip_transcript_is_the_clips_words_timed_from_its_start(world: World) -> None:
    w = world
    clip = w.ids["clip_shared"]  # 1.0-3.0 s of lesson_a, shared with ect_a
    r = w.client.get(f"{V1}/clips/{clip}/transcript", headers=w.auth("ect_a"))
    assert r.status_code == 200, r.text
    words = _words(r.json())
    assert [x["text"] for x in words] == _lesson_words_in(1.0, 3.0)
    assert len(words) >= 5
    assert all(0.0 <= x["start"] <= x["end"] <= 2.0 for x in words)  # clip time, not lesson time
    assert {x["probability"] for x in words} == {0.9}  # the review page marks unsure words by it
    assert set(r.json()) == {"language", "duration", "segments"}  # no model options


def test_a_blanked_moment_leaves_the_clip_transcript(
    world: World, inline_queue: InProcessQueue
) -> None:
    w = world
    lesson, clip = w.ids["lesson_a"], w.ids["clip_shared"]
    made = w.client.post(
        f"{V1}/lessons/{lesson}/blanks", json={"start": 1.5, "end": 2.5}, headers=w.auth("mentor")
    )
    assert made.status_code == 201, made.text
    r = w.client.get(f"{V1}/clips/{clip}/transcript", headers=w.auth("ect_a"))
    kept = [x["text"] for x in _words(r.json())]
    hidden = set(_lesson_words_in(1.5, 2.5)) - set(_lesson_words_in(1.0, 1.45))
    hidden -= set(_lesson_words_in(2.55, 3.0))
    assert hidden and not hidden & set(kept)
    assert kept and set(kept) <= set(_lesson_words_in(1.0, 3.0))


def test_only_those_who_see_the_clip_read_its_words(world: World) -> None:
    w = world
    path = f"{V1}/clips/{w.ids['clip_shared']}/transcript"
    assert w.client.get(path).status_code == 401
    for who in ("ect_b", "mentor_b", "coach"):
        assert w.client.get(path, headers=w.auth(who)).status_code == 404, who
    for clip in ("clip_draft", "clip_revoked", "clip_expired"):  # never or no longer shared
        path = f"{V1}/clips/{w.ids[clip]}/transcript"
        assert w.client.get(path, headers=w.auth("ect_a")).status_code == 404, clip
        assert w.client.get(path, headers=w.auth("mentor")).status_code == 200, clip


def test_a_lesson_without_its_transcript_says_why(world: World) -> None:
    w = world
    lesson, clip = w.ids["lesson_a"], w.ids["clip_shared"]
    w.storage.delete(lesson_key(lesson, "transcript.json"))  # as retention leaves it
    r = w.client.get(f"{V1}/clips/{clip}/transcript", headers=w.auth("ect_a"))
    assert r.status_code == 404, r.text
    assert "no transcript" in r.json()["detail"]
