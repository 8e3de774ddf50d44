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

import pytest
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


def test_a_shared_clip_has_the_talk_of_its_span_timed_from_its_start(world: World) -> None:
    """clip_shared is 1.0-3.0 s of lesson_a, shared with ect_a: its figures are the clip's,
    not the lesson's, and how sure the split is comes from the turns inside it."""
    words = (Word(0.2, 0.5, "Hello."), Word(1.2, 1.4, "Why"), Word(1.5, 1.7, "is"),
             Word(1.8, 2.0, "it?"), Word(2.6, 2.9, "Because."),
             Word(4.0, 4.5, "Later?"))  # fmt: skip
    transcript = Transcript("en", 6.0, (
        Segment(0.2, 0.5, "Hello.", words[:1]), Segment(1.2, 2.0, "Why is it?", words[1:4]),
        Segment(2.6, 2.9, "Because.", words[4:5]), Segment(4.0, 4.5, "Later?", words[5:]),
    ))  # fmt: skip
    speakers = {
        "turns": [
            {"start": 0.0, "end": 2.2, "label": "teacher", "confidence": 0.9},
            {"start": 2.4, "end": 3.5, "label": "pupil", "confidence": 0.5},
        ],
        "confidence": 0.2,
    }
    storage = open_storage(world.settings.storage_url)
    storage.put_bytes(_key(world, "transcript.json"), json.dumps(transcript.to_dict()).encode())
    storage.put_bytes(_key(world, "speakers.json"), json.dumps(speakers).encode())
    storage.put_bytes(
        _key(world, "speech.json"), json.dumps({"regions": [[1.15, 2.0], [2.65, 2.9]]}).encode()
    )
    clip = world.ids["clip_shared"]

    r = world.client.get(f"{V1}/clips/{clip}/analytics", headers=world.auth("ect_a"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert "never a score" in body["note"] and body["duration"] == 2.0
    (question,) = body["questions"]  # "Later?" is after the clip, "Hello." before it
    assert (question["text"], question["answered_by"]) == ("Why is it?", "pupil")
    assert (question["start"], question["wait"]) == (0.15, 0.65)  # voice edges, clip time
    # 1.2 s of the teacher's turn at 0.9, 0.6 s of the pupil's at 0.5 (not the lesson's 0.2)
    assert body["speaker_confidence"] == pytest.approx((1.2 * 0.9 + 0.6 * 0.5) / 1.8)
    assert "(77%)" in body["how_sure"]
    assert [run["label"] for run in body["timeline"]] == [
        "silence", "teacher", "silence", "pupil", "silence",
    ]  # fmt: skip
    with session_scope(world.settings.database_url) as s:
        seen = s.scalars(
            select(AuditEvent.actor_id).where(
                AuditEvent.action == "clip.analytics", AuditEvent.object_id == clip
            )
        ).all()
    assert seen == [world.users["ect_a"]]

    storage.delete(_key(world, "transcript.json"))
    r = world.client.get(f"{V1}/clips/{clip}/analytics", headers=world.auth("ect_a"))
    assert r.status_code == 404
    assert r.json()["detail"] == "This lesson has no transcript."
