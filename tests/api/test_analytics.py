"""The talk analytics over HTTP: the stored figures with their meanings, audited as a transcript
view, made again when the transcript is corrected, and a plain refusal when there is no
transcript. Who may read them is in test_authorization_matrix.

lesson_a's transcript (tests/api/conftest.py) is three statements spread over 0.5-5.5 s of a
6 s lesson: "Good morning everyone.", "Today we are looking at equivalent fractions." and "Show
me on your whiteboards what half of eight is."
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from models.audit import AuditEvent
from models.db import session_scope
from models.lesson import Lesson
from models.storage import open_storage
from pipeline.analytics import TalkAnalytics, Turn, analyse
from pipeline.transcript import Segment, Transcript, Word
from tests.api.conftest import World

V1 = "/api/v1"


def _url(world: World) -> str:
    return f"{V1}/lessons/{world.ids['lesson_a']}/analytics"


def _key(world: World, name: str) -> str:
    with session_scope(world.settings.database_url) as s:
        lesson = s.get(Lesson, world.ids["lesson_a"])
        assert lesson is not None
        return lesson.artefact_key(name)


def _figures(body: dict[str, Any]) -> dict[str, Any]:
    return {f["name"]: f for f in body["figures"]}


def test_stored_figures_are_served_with_a_meaning_each_and_audited(world: World) -> None:
    words = (Word(1.0, 1.3, "Why"), Word(1.4, 1.7, "is"), Word(1.8, 2.1, "it?"),
             Word(5.5, 5.8, "Because."))  # fmt: skip
    transcript = Transcript("en", 6.0, (Segment(1.0, 2.1, "Why is it?", words[:3]),
                                        Segment(5.5, 5.8, "Because.", words[3:])))  # fmt: skip
    turns = [Turn(0.0, 3.0, "teacher"), Turn(5.0, 6.0, "pupil")]
    stored = analyse(transcript, turns=turns)
    storage = open_storage(world.settings.storage_url)
    storage.put_bytes(_key(world, "analytics.json"), json.dumps(stored.to_dict()).encode())

    r = world.client.get(_url(world), headers=world.auth("mentor"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert "never a score" in body["note"]
    assert body["speakers"] is True and "told apart by voice" in body["how_sure"]
    figures = _figures(body)
    assert figures["questions"]["value"] == 1
    assert figures["open_questions"]["value"] == 1
    assert figures["mean_wait"]["value"] == 3.4
    assert figures["long_wait_share"]["value"] == 1.0
    assert figures["teacher_share"]["value"] == round(1.1 / 6, 4)
    assert figures["pupil_share"]["value"] == round(0.3 / 6, 4)
    assert all(f["meaning"] and "\n" not in f["meaning"] for f in body["figures"])
    (question,) = body["questions"]
    assert (question["text"], question["kind"], question["answered_by"]) == (
        "Why is it?", "open", "pupil",
    )  # fmt: skip
    assert [run["label"] for run in body["timeline"]] == [
        "silence", "teacher", "silence", "pupil", "silence",
    ]  # fmt: skip

    with session_scope(world.settings.database_url) as s:
        events = s.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "lesson.transcript",
                AuditEvent.object_id == world.ids["lesson_a"],
            )
        ).all()
        assert [(e.actor_id, e.detail) for e in events] == [
            (world.users["mentor"], {"format": "analytics"})
        ]


def test_a_lesson_processed_before_analytics_gets_them_from_its_transcript(world: World) -> None:
    r = world.client.get(_url(world), headers=world.auth("ect_a"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["questions"] == [] and body["speakers"] is False
    assert _figures(body)["words_per_minute"]["value"] and body["edges_from_voice"] is False
    storage = open_storage(world.settings.storage_url)
    assert not storage.exists(_key(world, "analytics.json"))  # a read writes nothing


def test_a_correction_makes_the_analytics_again(world: World) -> None:
    lesson = f"{V1}/lessons/{world.ids['lesson_a']}"
    body = {"version": 1, "sentences": [{"index": 2, "text": "What is half of eight?"}]}
    r = world.client.post(
        f"{lesson}/transcript/corrections", json=body, headers=world.auth("mentor")
    )
    assert r.status_code == 201, r.text
    storage = open_storage(world.settings.storage_url)
    stored = TalkAnalytics.from_dict(json.loads(storage.get_bytes(_key(world, "analytics.json"))))
    assert [(q.text, q.kind) for q in stored.questions] == [("What is half of eight?", "closed")]
    served = world.client.get(_url(world), headers=world.auth("ect_a")).json()
    assert [q["text"] for q in served["questions"]] == ["What is half of eight?"]


def test_without_a_transcript_the_answer_says_why(world: World) -> None:
    storage = open_storage(world.settings.storage_url)
    storage.delete(_key(world, "transcript.json"))
    r = world.client.get(_url(world), headers=world.auth("ect_a"))
    assert r.status_code == 404
    assert r.json()["detail"] == "This lesson has no transcript."
