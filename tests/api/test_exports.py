"""Research use and research exports over HTTP: the flag set at upload and changed like consent
(audited), each lesson export read back (pympi, csv) against the stored transcript and the
caller's clips, 409 for a lesson whose consent excludes research, and the coach's and admin's
zips leaving such lessons out and naming them in README.txt."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pympi import Elan, Praat
from sqlalchemy import select

from models.audit import AuditEvent
from models.batch import Batch, BatchItem
from models.db import session_scope
from models.lesson import Lesson
from models.queue import InProcessQueue
from tests.api.conftest import WORDS, Media, World, store_artefacts

V1 = "/api/v1"
FORMATS = ("eaf", "TextGrid", "csv")


def events(world: World, action: str) -> list[AuditEvent]:
    with session_scope(world.settings.database_url) as s:
        found = s.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()
        s.expunge_all()
        return list(found)


def set_research(world: World, who: str, value: Any, lesson: str = "lesson_a") -> Any:
    return world.client.put(
        f"{V1}/lessons/{world.ids[lesson]}/consent",
        json={"research_use": value},
        headers=world.auth(who),
    )


def test_upload_takes_research_use_and_otherwise_the_schools_default(
    world: World, inline_queue: InProcessQueue, media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    def upload(**fields: str) -> Any:
        with media.video.open("rb") as f:
            return world.client.post(
                f"{V1}/lessons",
                files={"file": ("y8.mp4", f, "video/mp4")},
                data=fields,
                headers=world.auth("ect_a"),
            )

    chosen = upload(research_use="true").json()
    assert chosen["research_use"] is True
    assert chosen["research_use_label"] == "May be used for research (exports)"
    assert upload().json()["research_use"] is False  # the shipped default: not for research

    from models.settings import get_settings

    monkeypatch.setenv("CLIPCOACH_RESEARCH_USE_DEFAULT", "true")
    get_settings.cache_clear()
    assert upload().json()["research_use"] is True
    assert upload(research_use="false").json()["research_use"] is False
    assert upload(research_use="maybe").status_code == 422
    created = events(world, "lesson.create")
    assert [e.detail["research_use"] for e in created] == [True, False, True, False]


def test_owner_and_admin_change_research_use_and_each_change_is_audited(world: World) -> None:
    assert set_research(world, "mentor", False).status_code == 403
    assert set_research(world, "ect_b", False).status_code == 404
    changed = set_research(world, "ect_a", False)
    assert changed.status_code == 200
    body = changed.json()
    assert body["research_use"] is False and body["consent"] == "all_visible"
    assert "Not for research" in body["research_use_label"]
    assert set_research(world, "admin", True).json()["research_use"] is True
    assert set_research(world, "admin", True).status_code == 200  # no change, no event
    assert [(e.actor_id, e.detail) for e in events(world, "lesson.research_use")] == [
        (world.users["ect_a"], {"before": True, "after": False}),
        (world.users["admin"], {"before": False, "after": True}),
    ]
    assert events(world, "lesson.consent") == []  # the state itself did not change
    empty = world.client.put(
        f"{V1}/lessons/{world.ids['lesson_a']}/consent", json={}, headers=world.auth("ect_a")
    )
    assert empty.status_code == 422


def test_the_lesson_exports_read_back_as_the_transcript_and_the_callers_clips(
    world: World, tmp_path: Path
) -> None:
    lesson = world.ids["lesson_a"]
    files = {}
    for fmt in FORMATS:
        response = world.client.get(
            f"{V1}/lessons/{lesson}/export.{fmt}", headers=world.auth("mentor")
        )
        assert response.status_code == 200, response.text
        assert f'filename="{lesson}.{fmt}"' in response.headers["content-disposition"]
        assert b"@school.test" not in response.content  # no account emails, ever
        files[fmt] = tmp_path / f"lesson.{fmt}"
        files[fmt].write_bytes(response.content)
    transcript = json.loads(world.storage.get_bytes(f"lessons/{lesson}/transcript.json"))
    words = [(round(w["start"] * 1000), round(w["end"] * 1000), w["text"])
             for s in transcript["segments"] for w in s["words"]]  # fmt: skip
    assert [w for _, _, w in words] == WORDS

    eaf = Elan.Eaf(str(files["eaf"]))
    assert sorted(eaf.get_annotation_data_for_tier("words")) == words
    clips = [a for name in eaf.get_tier_names() if name.startswith("clips")
             for a in eaf.get_annotation_data_for_tier(name)]  # fmt: skip
    # the mentor's own clips and ect_a's shared reflection; never ect_a's private one
    assert sorted(text for _, _, text in clips) == sorted(
        ["clip_shared", "clip_expired", "clip_revoked", "clip_draft", "clip_self_shared"]
    )
    assert all((start, end) == (1000, 3000) for start, end, _ in clips)
    tags = eaf.get_annotation_data_for_tier("strand tags")
    assert tags and all(text.startswith("4e") for _, _, text in tags)
    comments = [a for name in eaf.get_tier_names() if name.startswith("comments")
                for a in eaf.get_annotation_data_for_tier(name)]  # fmt: skip
    assert (2000, 3000, "[note Mentor] Whole lesson") in comments  # the lesson comment
    assert (1500, 2500, "[note Mentor] Look here") in comments  # at 0.5 s into a clip at 1 s

    grid = Praat.TextGrid(str(files["TextGrid"]), codec="utf-8")
    intervals = grid.get_tier("words").get_intervals()
    got = [(round(a * 1000), round(b * 1000), t) for a, b, t in intervals if t]
    assert got == words

    rows = list(csv.DictReader(io.StringIO(files["csv"].read_text("utf-8-sig"), newline="")))
    kinds = [r["record"] for r in rows]
    assert kinds.count("clip") == 5 and kinds.count("tag") == 5
    assert kinds.count("comment") == 6  # one per clip above and the lesson comment
    step = next(r for r in rows if r["record"] == "action_step")
    assert step["id"] == world.ids["step_a"]
    assert step["clip_id"] == world.ids["clip_shared"]
    assert step["text"] == "Wait three seconds after each question"
    assert {r["author"] for r in rows} == {"Mentor", "Ect A"}

    exported = events(world, "lesson.export")
    assert [(e.actor_id, e.object_id, e.detail["format"]) for e in exported] == [
        (world.users["mentor"], lesson, fmt) for fmt in FORMATS
    ]


def test_a_lesson_whose_consent_excludes_research_is_not_exported(world: World) -> None:
    assert set_research(world, "ect_a", False).status_code == 200
    for fmt in FORMATS:
        response = world.client.get(
            f"{V1}/lessons/{world.ids['lesson_a']}/export.{fmt}", headers=world.auth("ect_a")
        )
        assert response.status_code == 409
        assert response.json()["code"] == "research_use_excluded"
        assert "[research_use_excluded]" in response.json()["detail"]
    assert events(world, "lesson.export") == []


def _coach_batch(world: World, media: Media) -> tuple[str, str, str]:
    """The coach's batch of two ready lessons, the second not for research."""
    with session_scope(world.settings.database_url) as s:
        ids = []
        for title, research in (("Allowed", True), ("Withheld", False)):
            lesson = Lesson(
                owner_id=world.users["coach"], title=title, source_key="",
                source_filename=f"{title}.mp4", research_use=research,
            )  # fmt: skip
            s.add(lesson)
            s.flush()
            store_artefacts(world.settings, lesson, media)
            ids.append(lesson.id)
        batch = Batch(owner_id=world.users["coach"], name="Spring")
        s.add(batch)
        s.flush()
        for n, lesson_id in enumerate(ids):
            s.add(BatchItem(batch_id=batch.id, position=n, source_name="x", lesson_id=lesson_id))
        return batch.id, ids[0], ids[1]


def _zip(response: Any) -> zipfile.ZipFile:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_the_batch_research_zip_leaves_out_excluded_lessons_and_says_so(
    world: World, media: Media, tmp_path: Path
) -> None:
    batch, allowed, withheld = _coach_batch(world, media)
    url = f"{V1}/batches/{batch}/research-export.zip"
    assert world.client.get(url, headers=world.auth("mentor")).status_code == 404
    archive = _zip(world.client.get(url, headers=world.auth("coach")))
    assert sorted(archive.namelist()) == sorted(
        ["README.txt", *(f"{allowed}.{fmt}" for fmt in FORMATS)]
    )
    readme = archive.read("README.txt").decode()
    assert f"Included (1):\n  {allowed}  Allowed\n" in readme
    assert f"  {withheld}  Withheld: its consent excludes research use" in readme
    (tmp_path / "a.eaf").write_bytes(archive.read(f"{allowed}.eaf"))
    words = Elan.Eaf(str(tmp_path / "a.eaf")).get_annotation_data_for_tier("words")
    assert [t for _, _, t in sorted(words)] == WORDS
    [whole] = events(world, "batch.research_export")
    assert whole.detail == {"included": [allowed], "left_out": [withheld]}
    assert [e.object_id for e in events(world, "lesson.export")] == [allowed]


def test_the_admin_research_zip_takes_chosen_lessons_without_clips_or_comments(
    world: World, tmp_path: Path
) -> None:
    a, b = world.ids["lesson_a"], world.ids["lesson_b"]
    url = f"{V1}/admin/research-export.zip"
    query = {"lesson_ids": [a, b, "nosuchlesson"]}
    assert world.client.get(url, params=query, headers=world.auth("mentor")).status_code == 403
    assert world.client.get(url, headers=world.auth("admin")).status_code == 422
    archive = _zip(world.client.get(url, params=query, headers=world.auth("admin")))
    assert sorted(archive.namelist()) == sorted(["README.txt", *(f"{a}.{f}" for f in FORMATS)])
    readme = archive.read("README.txt").decode()
    assert f"  {b}  Lesson of ect_b: its consent excludes research use" in readme
    assert "  nosuchlesson  unknown id: no such lesson" in readme
    # an admin sees no clips or comments, so none leave with the transcript
    rows = archive.read(f"{a}.csv").decode("utf-8-sig").splitlines()
    assert len(rows) == 1
    (tmp_path / "a.TextGrid").write_bytes(archive.read(f"{a}.TextGrid"))
    grid = Praat.TextGrid(str(tmp_path / "a.TextGrid"), codec="utf-8")
    assert [t for _, _, t in grid.get_tier("words").get_intervals() if t] == WORDS
    assert grid.get_tier("clips").get_intervals() and not [
        t for _, _, t in grid.get_tier("clips").get_intervals() if t
    ]
    [whole] = events(world, "admin.research_export")
    assert whole.actor_id == world.users["admin"]
    assert whole.detail == {"included": [a], "left_out": [b, "nosuchlesson"]}
