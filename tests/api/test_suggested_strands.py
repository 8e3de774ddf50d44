"""Suggested strands over HTTP: for a selected range and a saved clip, from the words and the
talk figures of that range only, with why; nothing is tagged. Who may ask is in
test_authorization_matrix."""

from __future__ import annotations

import json

from sqlalchemy import select

from api.suggestions import range_figures
from models.audit import AuditEvent
from models.db import session_scope
from models.lesson import Lesson
from models.storage import open_storage
from pipeline.analytics import Turn, analyse
from pipeline.transcript import Segment, Transcript, Word
from tests.api.conftest import World

V1 = "/api/v1"
SAID = "Hands down please. Take a moment and think silently. What is half of eight?"


def _store(world: World) -> None:
    """lesson_a (6 s): the words above over 0.5-1.9 s, a 3.1 s wait, then a pupil answers."""
    texts = SAID.split()
    words = tuple(Word(0.5 + 0.1 * i, 0.58 + 0.1 * i, t) for i, t in enumerate(texts))
    answer = (Word(5.0, 5.5, "Four."),)
    transcript = Transcript(
        "en", 6.0, (Segment(0.5, words[-1].end, SAID, words), Segment(5.0, 5.5, "Four.", answer))
    )
    analytics = analyse(transcript, turns=[Turn(0.0, 3.0, "teacher"), Turn(4.9, 6.0, "pupil")])
    with session_scope(world.settings.database_url) as s:
        lesson = s.get(Lesson, world.ids["lesson_a"])
        assert lesson is not None
        storage = open_storage(world.settings.storage_url)
        storage.put_bytes(
            lesson.artefact_key("transcript.json"), json.dumps(transcript.to_dict()).encode()
        )
        storage.put_bytes(
            lesson.artefact_key("analytics.json"), json.dumps(analytics.to_dict()).encode()
        )


def test_a_selected_range_gets_thinking_time_with_the_words_and_the_wait(world: World) -> None:
    _store(world)
    url = f"{V1}/lessons/{world.ids['lesson_a']}/suggested-strands"
    r = world.client.get(url, params={"start": 0.0, "end": 6.0}, headers=world.auth("mentor"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert 1 <= len(body) <= 3
    top = body[0]
    assert (top["strand_id"], top["code"]) == ("ecf-2019:4m", "4m")
    assert "hands down" in top["words"]
    assert any("wait" in f for f in top["figures"])
    assert top["why"].startswith("Suggested because")
    with session_scope(world.settings.database_url) as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "lesson.transcript"))
        assert any(e.detail.get("format") == "suggested-strands" for e in events)

    # a range with none of those words and no question suggests nothing from them
    r = world.client.get(url, params={"start": 4.8, "end": 6.0}, headers=world.auth("mentor"))
    assert r.status_code == 200
    assert all(s["code"] != "4m" for s in r.json())


def test_a_saved_clip_gets_suggestions_and_nothing_is_tagged(world: World) -> None:
    _store(world)
    made = world.client.post(
        f"{V1}/clips",
        json={"lesson_id": world.ids["lesson_a"], "start": 0.0, "end": 6.0, "title": "Wait"},
        headers=world.auth("mentor"),
    )
    assert made.status_code == 201, made.text
    clip = made.json()["id"]
    r = world.client.get(f"{V1}/clips/{clip}/suggested-strands", headers=world.auth("mentor"))
    assert r.status_code == 200, r.text
    assert r.json()[0]["code"] == "4m"
    tags = world.client.get(f"{V1}/clips/{clip}/tags", headers=world.auth("mentor"))
    assert tags.json() == []


def test_bad_ranges_and_frameworks_are_refused_plainly(world: World) -> None:
    url = f"{V1}/lessons/{world.ids['lesson_a']}/suggested-strands"
    who = world.auth("mentor")
    r = world.client.get(url, params={"start": 3.0, "end": 2.0}, headers=who)
    assert r.status_code == 422 and "must start before it ends" in r.json()["detail"]
    r = world.client.get(url, params={"start": 0, "end": 4, "framework": "nope"}, headers=who)
    assert r.status_code == 422 and "Unknown framework" in r.json()["detail"]
    r = world.client.get(url, params={"start": "x", "end": 4}, headers=who)
    assert r.status_code == 422


def test_range_figures_count_only_what_lies_in_the_range() -> None:
    words = (Word(1.0, 1.3, "Why"), Word(1.4, 1.7, "is"), Word(1.8, 2.1, "it?"),
             Word(5.5, 5.8, "Because."))  # fmt: skip
    transcript = Transcript("en", 6.0, (Segment(1.0, 2.1, "Why is it?", words[:3]),
                                        Segment(5.5, 5.8, "Because.", words[3:])))  # fmt: skip
    result = analyse(transcript, turns=[Turn(0.0, 3.0, "teacher"), Turn(5.0, 6.0, "pupil")])
    whole = range_figures(result, 0.0, 6.0)
    assert (whole.questions, whole.open_questions) == (1, 1)
    assert whole.mean_wait is not None and whole.mean_wait > 3.0
    assert whole.pupil_share is not None and 0 < whole.pupil_share < 0.2
    later = range_figures(result, 3.0, 6.0)
    assert later.questions == 0 and later.mean_wait is None
    assert range_figures(None, 0.0, 6.0).questions == 0
