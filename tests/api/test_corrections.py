"""Correcting a transcript over HTTP: a new version that everything reading the transcript
follows, audited, and revertible; only for the lesson's owner and mentor.

lesson_a's transcript (tests/api/conftest.py) has three sentences: "Good morning everyone.",
"Today we are looking at equivalent fractions." and "Show me on your whiteboards what half of
eight is."; clip_shared covers 1.0-3.0 s of it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from models.audit import AuditEvent
from models.coaching import Clip
from models.db import session_scope
from models.queue import InProcessQueue
from tests.api.conftest import World, get_rendered
from tests.mediafactory import loudness

V1 = "/api/v1"


def _lesson(world: World) -> str:
    return f"{V1}/lessons/{world.ids['lesson_a']}"


def _get(world: World, path: str, who: str = "ect_a") -> Any:
    r = world.client.get(path, headers=world.auth(who))
    assert r.status_code == 200, r.text
    return r.json() if "json" in r.headers["content-type"] else r.text


def _correct(world: World, who: str, version: int, *edits: tuple[int, str]) -> Any:
    body = {"version": version, "sentences": [{"index": i, "text": t} for i, t in edits]}
    return world.client.post(
        f"{_lesson(world)}/transcript/corrections", json=body, headers=world.auth(who)
    )


def _revert(world: World, who: str, version: int) -> Any:
    return world.client.post(
        f"{_lesson(world)}/transcript/reverts", json={"version": version}, headers=world.auth(who)
    )


def _events(world: World, action: str) -> list[AuditEvent]:
    with session_scope(world.settings.database_url) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_mentor_corrects_a_sentence_and_every_reader_follows(world: World) -> None:
    before = _get(world, f"{_lesson(world)}/transcript")
    old_vtt = _get(world, f"{_lesson(world)}/transcript?format=vtt")
    assert "equivalent fractions" in old_vtt

    r = _correct(world, "mentor", 1, (1, "Today we are looking at equal fractions."))
    assert r.status_code == 201, r.text
    version = r.json()
    assert (version["number"], version["kind"], version["current"]) == (2, "correction", True)
    assert version["author"]["id"] == world.users["mentor"]
    assert r.headers["location"].endswith("/transcript?version=2")

    after = _get(world, f"{_lesson(world)}/transcript")
    old_words, new_words = before["segments"][1]["words"], after["segments"][1]["words"]
    assert [w["text"] for w in new_words][-2:] == ["equal", "fractions."]
    assert new_words[:5] == old_words[:5]  # unchanged words keep their times exactly
    assert new_words[-1] == old_words[-1]
    assert (new_words[5]["start"], new_words[5]["end"]) == (
        old_words[5]["start"],
        old_words[5]["end"],
    )
    assert new_words[5]["probability"] == 1.0  # a typed word is not unsure
    assert after["segments"][0] == before["segments"][0]

    # captions, exports, candidate clips and clip captions follow the newest version
    vtt = _get(world, f"{_lesson(world)}/transcript?format=vtt")
    assert "equal fractions" in vtt and "equivalent" not in vtt
    assert "equal fractions" in _get(world, f"{_lesson(world)}/transcript?format=srt")
    assert "equal fractions" in _get(world, f"{_lesson(world)}/transcript?format=txt")
    segments = _get(world, f"{_lesson(world)}/segments")
    assert "equal fractions" in " ".join(s["text"] for s in segments)
    assert "equivalent" not in " ".join(s["text"] for s in segments)
    # the clip over the changed word is rendered again (with the new words) when next asked for
    clip = _get(world, f"{V1}/clips/{world.ids['clip_shared']}", "mentor")
    assert clip["render_status"] == "none"
    # the transcript the player's media link opens is the new one too
    links = _get(world, f"{_lesson(world)}/media-links")
    assert "equal fractions" in world.client.get(links["captions"]).text

    # and search: the new words are found, the replaced ones no longer
    for q, found in (("equal", True), ("equivalent", False)):
        hits = _get(world, f"{V1}/search?q={q}", "mentor")
        assert (world.ids["lesson_a"] in {h["lesson_id"] for h in hits}) is found, q

    # the earlier version is kept as it was, and listed
    assert _get(world, f"{_lesson(world)}/transcript?version=1") == before
    listed = _get(world, f"{_lesson(world)}/transcriptions")
    assert [(v["number"], v["kind"], v["current"]) for v in listed] == [
        (1, "transcription", False),
        (2, "correction", True),
    ]
    assert listed[1]["words"] == 20

    [event] = _events(world, "transcript.correct")
    assert event.actor_id == world.users["mentor"]
    assert event.detail["version"] == 2 and event.detail["sentences"] == [1]


def test_revert_makes_a_copy_of_an_earlier_version_the_newest(world: World) -> None:
    original = _get(world, f"{_lesson(world)}/transcript")
    assert _correct(world, "ect_a", 1, (0, "Good morning class.")).status_code == 201
    assert "class" in _get(world, f"{_lesson(world)}/transcript?format=vtt")

    r = _revert(world, "ect_a", 1)
    assert r.status_code == 201, r.text
    assert (r.json()["number"], r.json()["kind"], r.json()["reverted_from"]) == (3, "revert", 1)
    vtt = _get(world, f"{_lesson(world)}/transcript?format=vtt")
    assert "Good morning everyone." in vtt and "class" not in vtt
    assert _get(world, f"{_lesson(world)}/transcript")["segments"] == original["segments"]
    kinds = [v["kind"] for v in _get(world, f"{_lesson(world)}/transcriptions")]
    assert kinds == ["transcription", "correction", "revert"]
    # the correction is still there to go back to
    assert "class" in _get(world, f"{_lesson(world)}/transcript?version=2&format=vtt")
    [event] = _events(world, "transcript.revert")
    assert event.detail == {"version": 3, "reverted_from": 1}


def test_a_stale_version_or_a_missing_sentence_changes_nothing(world: World) -> None:
    assert _correct(world, "ect_a", 1, (0, "Hello.")).status_code == 201
    stale = _correct(world, "mentor", 1, (0, "Good day."))
    assert stale.status_code == 409
    assert "version 2" in stale.json()["detail"]
    missing = _correct(world, "mentor", 2, (7, "Nothing here."))
    assert missing.status_code == 422
    assert "Sentence 7 does not exist" in missing.json()["detail"]
    assert "Hello." in _get(world, f"{_lesson(world)}/transcript?format=vtt")
    revert = _revert(world, "ect_a", 9)
    assert revert.status_code == 404
    listed = _get(world, f"{_lesson(world)}/transcriptions")
    assert [v["words"] for v in listed] == [20, 18]  # "Good morning everyone." -> "Hello."


@pytest.mark.parametrize(
    ("who", "status"), [("ect_b", 404), ("mentor_b", 404), ("coach", 404), ("admin", 403)]
)
def test_those_who_may_not_edit_change_nothing(world: World, who: str, status: int) -> None:
    r = _correct(world, who, 1, (0, "Overwritten."))
    assert r.status_code == status, r.text
    revert = _revert(world, who, 1)
    assert revert.status_code == status
    stored = world.storage.get_bytes(f"lessons/{world.ids['lesson_a']}/transcript.json")
    assert "Overwritten" not in json.loads(stored)["segments"][0]["text"]
    assert _events(world, "transcript.correct") == []


def _media_key(world: World, clip_id: str) -> str:
    with session_scope(world.settings.database_url) as s:
        clip = s.get(Clip, clip_id)
        assert clip is not None and clip.media_key
        return clip.media_key


def test_a_correction_renders_again_the_clips_whose_words_changed(
    world: World, inline_queue: InProcessQueue, tmp_path: Path
) -> None:
    """ect_a's class list names Jayden, whom the model did not hear; the mentor's correction
    puts the name in sentence 1. The rendered clip over it (0.5-3.0 s) is thrown away and
    renders again silent where the name now is; a rendered clip away from the change (4.2-5.5 s)
    keeps its file."""
    w = world
    named = w.client.post(f"{V1}/pupil-names", json={"name": "Jayden"}, headers=w.auth("ect_a"))
    assert named.status_code == 201, named.text
    clips = {}
    for key, (start, end) in {"over": (0.5, 3.0), "away": (4.2, 5.5)}.items():
        made = w.client.post(
            f"{V1}/clips",
            json={"lesson_id": w.ids["lesson_a"], "start": start, "end": end, "title": key},
            headers=w.auth("mentor"),
        )
        assert made.status_code == 201, made.text
        clips[key] = made.json()["id"]
        shown = get_rendered(w.client, f"{V1}/clips/{clips[key]}/media", w.auth("mentor"))
        assert shown.status_code == 200, shown.text
        (tmp_path / f"{key}-before.mp4").write_bytes(shown.content)
    away_file = _media_key(world, clips["away"])

    r = _correct(world, "mentor", 1, (1, "Today Jayden is looking at equivalent fractions."))
    assert r.status_code == 201, r.text

    words = [x for s in _get(world, f"{_lesson(world)}/transcript")["segments"] for x in s["words"]]
    [name] = [x for x in words if x["text"] == "Jayden"]
    assert 1.4 < name["start"] < name["end"] < 2.0  # where "we are" was said
    over = _get(world, f"{V1}/clips/{clips['over']}", "mentor")
    away = _get(world, f"{V1}/clips/{clips['away']}", "mentor")
    assert over["render_status"] == "none"  # renders again on its next request
    assert away["render_status"] == "ready"
    assert _media_key(world, clips["away"]) == away_file and w.storage.exists(away_file)
    again = get_rendered(w.client, f"{V1}/clips/{clips['over']}/media", w.auth("mentor"))
    assert again.status_code == 200, again.text
    after = tmp_path / "over-after.mp4"
    after.write_bytes(again.content)
    at_name = (name["start"] - 0.5 + 0.02, name["end"] - 0.5 - 0.02)  # clip time
    elsewhere = (0.8, 0.95)  # "Today", 1.3-1.45 s in the lesson
    assert loudness(tmp_path / "over-before.mp4", [at_name]) > [0.01]  # said, before
    silent, sounding = loudness(after, [at_name, elsewhere])
    assert silent < 1e-3 and sounding > 0.01, (silent, sounding)
