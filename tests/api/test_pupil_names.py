"""Class lists and pupil-name redaction over HTTP: the lesson's owner, their mentor (and an admin)
read the names; anyone else who may read the words (an ECT shown a clip of another teacher's
lesson, a coach whose batch holds it) reads [pupil] in the clip transcript, the captions, the
lesson transcript, search and the exports. Research exports leave the names out for everyone."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from models import search
from models.audit import AuditEvent
from models.batch import Batch, BatchItem
from models.coaching import Share
from models.db import session_scope
from models.lesson import Lesson
from models.pupilnames import list_of
from models.queue import InProcessQueue
from tests.api.conftest import World, get_rendered, transcript_for
from tests.mediafactory import frame_lumas, loudness

V1 = "/api/v1"
SAID = ["Well", "done", "Aysha.", "Will", "you", "help", "Jaden", "with", "fractions?"]
SAID += ["Thank", "you,", "Will."]


def _lesson_says_names(w: World) -> None:
    """lesson_a's transcript holds two names of ect_a's class list (Aisha heard as "Aysha",
    Will) and one of the school's (Jayden heard as "Jaden"), and "Will" as a verb."""
    doc = transcript_for(SAID, 0.5, 5.5)
    lesson_id = w.ids["lesson_a"]
    w.storage.put_bytes(f"lessons/{lesson_id}/transcript.json", json.dumps(doc).encode())
    w.storage.put_bytes(f"lessons/{lesson_id}/transcript.txt", b"stale text with Aysha")
    with session_scope(w.settings.database_url) as s:
        search.index_transcript(s, lesson_id, doc)
    for name in ("Aisha", "Will"):
        r = w.client.post(f"{V1}/pupil-names", json={"name": name}, headers=w.auth("ect_a"))
        assert r.status_code == 201, r.text
    r = w.client.post(
        f"{V1}/pupil-names", json={"name": "Jayden", "scope": "school"}, headers=w.auth("admin")
    )
    assert r.status_code == 201, r.text


def _clip_shown_to_ect_b(w: World) -> str:
    """A clip of lesson_a (all of it) that ect_b sees, as a clip of another teacher's lesson
    shown to an ECT (model practice) is seen."""
    r = w.client.post(
        f"{V1}/clips",
        json={"lesson_id": w.ids["lesson_a"], "start": 0.5, "end": 5.5, "title": "Praise"},
        headers=w.auth("mentor"),
    )
    assert r.status_code == 201, r.text
    clip_id = str(r.json()["id"])
    with session_scope(w.settings.database_url) as s:
        for ect in ("ect_a", "ect_b"):  # its owner through the mentor's share, as ever
            s.add(Share(clip_id=clip_id, recipient_id=w.users[ect], shared_by=w.users["mentor"]))
    return clip_id


def _coach_batch_holds_lesson_a(w: World) -> str:
    with session_scope(w.settings.database_url) as s:
        batch = Batch(owner_id=w.users["coach"], name="y8")
        s.add(batch)
        s.flush()
        s.add(
            BatchItem(
                batch_id=batch.id, position=0, source_name="a.mp4", lesson_id=w.ids["lesson_a"]
            )
        )
        return batch.id


def _text(doc: dict[str, Any]) -> str:
    return " ".join(s["text"] for s in doc["segments"])


def _get(w: World, path: str, who: str, **params: str) -> Any:
    r = w.client.get(f"{V1}{path}", headers=w.auth(who), params=params)
    assert r.status_code == 200, (who, path, r.text)
    return r


def test_the_clip_transcript_hides_names_from_an_ect_outside_the_pair(world: World) -> None:
    w = world
    _lesson_says_names(w)
    clip = _clip_shown_to_ect_b(w)
    for who in ("ect_a", "mentor"):
        text = _text(_get(w, f"/clips/{clip}/transcript", who).json())
        assert "Aysha" in text and "Jaden" in text and "Will." in text
    doc = _get(w, f"/clips/{clip}/transcript", "ect_b").json()
    text = _text(doc)
    assert "Aysha" not in text and "Jaden" not in text
    assert text.count("[pupil]") == 3
    assert "Will you help" in text  # the verb stays
    words = [x["text"] for s in doc["segments"] for x in s["words"]]
    assert "Aysha." not in words and words.count("[pupil].") == 2
    talk = _get(w, f"/clips/{clip}/analytics", "ect_b").text  # its questions are its words
    assert "Jaden" not in talk and "Aysha" not in talk


def test_captions_hide_names_from_an_ect_outside_the_pair(
    world: World, inline_queue: InProcessQueue
) -> None:
    w = world
    _lesson_says_names(w)
    clip = _clip_shown_to_ect_b(w)
    path = f"{V1}/clips/{clip}/captions.vtt"
    assert w.client.get(path, headers=w.auth("ect_b")).status_code == 503  # asks for the render
    inline_queue.join()
    r = w.client.get(path, headers=w.auth("ect_b"))
    assert r.status_code == 200, (r.text, _get(w, f"/clips/{clip}", "ect_b").json())
    assert "[pupil]" in r.text and "Aysha" not in r.text and "Jaden" not in r.text
    owner = w.client.get(path, headers=w.auth("ect_a"))
    assert owner.status_code == 200 and "Aysha" in owner.text


def test_a_coach_reads_placeholders_in_the_lesson_transcript_search_and_zip(world: World) -> None:
    w = world
    _lesson_says_names(w)
    batch = _coach_batch_holds_lesson_a(w)
    lesson = w.ids["lesson_a"]
    for fmt in ("json", "txt", "vtt", "srt"):
        coach = _get(w, f"/lessons/{lesson}/transcript", "coach", format=fmt).text
        assert "Aysha" not in coach and "Jaden" not in coach and "[pupil]" in coach, fmt
    assert "Aysha" in _get(w, f"/lessons/{lesson}/transcript", "mentor", format="json").text
    assert "Aysha" in _get(w, f"/lessons/{lesson}/transcript", "ect_a", format="txt").text
    w.storage.put_bytes(
        f"lessons/{lesson}/segments.json",
        json.dumps(
            [{"start": 0.5, "end": 3.0, "title": "Well done Aysha", "text": "Jaden, sit"}]
        ).encode(),
    )
    segment = _get(w, f"/lessons/{lesson}/segments", "coach").json()[0]
    assert (segment["title"], segment["text"]) == ("Well done [pupil]", "[pupil], sit")
    assert _get(w, f"/lessons/{lesson}/segments", "mentor").json()[0]["text"] == "Jaden, sit"

    # search: the sentence is shown with [pupil]; a search for the name finds nothing
    hits = _get(w, "/search", "coach", q="fractions").json()
    assert hits and all("Jaden" not in h["snippet"] for h in hits)
    assert any("[pupil]" in h["snippet"] for h in hits)
    for hit in hits:
        for start, end in hit["highlights"]:
            assert hit["snippet"][start:end].lower().startswith("fraction")
    assert _get(w, "/search", "coach", q="Aysha").json() == []
    assert _get(w, "/search", "ect_a", q="Aysha").json()

    r = _get(w, f"/batches/{batch}/transcripts.zip", "coach", formats="json,txt")
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    texts = [archive.read(n).decode() for n in archive.namelist() if n != "manifest.json"]
    assert len(texts) == 2
    assert all("Aysha" not in t and "[pupil]" in t for t in texts)


def test_research_exports_leave_the_names_out_for_everyone(world: World) -> None:
    w = world
    _lesson_says_names(w)
    lesson = w.ids["lesson_a"]
    for fmt in ("eaf", "TextGrid"):
        body = _get(w, f"/lessons/{lesson}/export.{fmt}", "ect_a").text
        assert "Aysha" not in body and "Jaden" not in body and "[pupil]" in body, fmt
    r = _get(w, "/admin/research-export.zip", "admin", lesson_ids=lesson)
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    eaf = archive.read(f"{lesson}.eaf").decode()
    assert "Aysha" not in eaf and "[pupil]" in eaf


def test_a_class_list_is_kept_validated_and_audited_without_the_names(world: World) -> None:
    w = world
    add = lambda who, **body: w.client.post(  # noqa: E731 - a short local helper
        f"{V1}/pupil-names", json=body, headers=w.auth(who)
    )
    made = add("ect_a", name="  Zoë  ")
    assert made.status_code == 201, made.text
    assert made.json()["name"] == "Zoë" and made.json()["scope"] == "mine"
    again = add("ect_a", name="ZOE")
    assert again.status_code == 409 and again.json()["code"] == "pupil_name_exists"
    assert add("ect_b", name="Zoe").status_code == 201  # another teacher's list is separate
    for bad in ("", "   ", "42", "x" * 61, "one two three four"):
        r = add("ect_a", name=bad)
        assert r.status_code == 422, (bad, r.text)
        assert isinstance(r.json()["detail"], str | list)
    assert add("ect_a", name="Amir", scope="nobody").status_code == 422
    assert add("ect_a", name="Amir", scope="school").status_code == 403
    add("ect_a", name="Amir")
    mine = _get(w, "/pupil-names", "ect_a").json()
    assert [n["name"] for n in mine] == ["Amir", "Zoë"]
    assert _get(w, "/pupil-names", "admin", scope="school").json() == []

    name_id = made.json()["id"]
    renamed = w.client.patch(
        f"{V1}/pupil-names/{name_id}", json={"name": "Zoey"}, headers=w.auth("ect_a")
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Zoey"
    clash = w.client.patch(
        f"{V1}/pupil-names/{name_id}", json={"name": "amir"}, headers=w.auth("ect_a")
    )
    assert clash.status_code == 409
    gone = w.client.delete(f"{V1}/pupil-names/{name_id}", headers=w.auth("ect_a"))
    assert gone.status_code == 204
    assert [n["name"] for n in _get(w, "/pupil-names", "ect_a").json()] == ["Amir"]

    with session_scope(w.settings.database_url) as s:
        events = [e for e in s.query(AuditEvent) if e.action.startswith("pupil_name.")]
        assert {e.action for e in events} == {
            "pupil_name.add", "pupil_name.change", "pupil_name.remove",
        }  # fmt: skip
        for e in events:
            assert "Zo" not in json.dumps(e.detail) and "Amir" not in json.dumps(e.detail)

    # a person's data holds their list; erasing them deletes it
    export = _get(w, f"/admin/users/{w.users['ect_a']}/export", "admin")
    listed = json.loads(zipfile.ZipFile(io.BytesIO(export.content)).read("class_list.json"))
    assert [n["name"] for n in listed] == ["Amir"]
    erased = w.client.post(f"{V1}/admin/users/{w.users['ect_a']}/erase", headers=w.auth("admin"))
    assert erased.status_code == 200, erased.text
    with session_scope(w.settings.database_url) as s:
        assert list_of(s, w.users["ect_a"]) == []
        assert [n.name for n in list_of(s, w.users["ect_b"])] == ["Zoe"]


def test_a_list_change_throws_away_the_renders_of_the_lessons_it_applies_to(
    world: World,
) -> None:
    w = world
    with session_scope(w.settings.database_url) as s:
        lesson_b = s.get(Lesson, w.ids["lesson_b"])
        assert lesson_b is not None
    r = w.client.post(f"{V1}/pupil-names", json={"name": "Aisha"}, headers=w.auth("ect_a"))
    assert r.status_code == 201
    a = _get(w, f"/clips/{w.ids['clip_shared']}", "mentor").json()
    b = _get(w, f"/clips/{w.ids['clip_b']}", "mentor_b").json()
    assert a["render_status"] == "none"  # ect_a's lesson: rendered again on the next view
    assert b["render_status"] == "ready"  # ect_b's lesson: not on that list


def test_the_rendered_clip_is_silent_where_a_name_is_said_and_sounds_elsewhere(
    world: World, inline_queue: InProcessQueue, tmp_path: Path
) -> None:
    """The lesson's sound is a steady tone; the transcript's words are timed over it. The
    shared clip (0.5-5.5 s of the lesson) is decoded: silent over each name (with its 80 ms
    pad), the tone everywhere else, "Will" the verb included."""
    w = world
    _lesson_says_names(w)
    clip = _clip_shown_to_ect_b(w)
    r = get_rendered(w.client, f"{V1}/clips/{clip}/media", w.auth("ect_b"))
    assert r.status_code == 200, r.text
    path = tmp_path / "shared.mp4"
    path.write_bytes(r.content)
    step = 5.0 / len(SAID)  # each word's length; clip time = lesson time - 0.5

    def said(i: int, margin: float) -> tuple[float, float]:
        return (i * step + margin, (i + 1) * step - margin)

    names = [said(i, 0.03) for i in (2, 6, 11)]  # Aysha., Jaden, Will.
    others = [said(i, 0.1) for i in (0, 1, 3, 4, 5, 7, 8, 9)]  # Will (the verb) is word 3
    levels = loudness(path, names + others)
    assert max(levels[:3]) < 1e-3, levels
    assert min(levels[3:]) > 0.01, levels
    assert len(frame_lumas(path)) >= 100  # the picture is still there (copied)
