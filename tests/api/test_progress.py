"""An ECT's progress through the API: what each viewer counts, the talk figures, the CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlalchemy import select

from models.audit import AuditEvent
from models.db import session_scope, utcnow
from models.lesson import Lesson
from models.progress import half_term_of
from pipeline.analytics import TalkAnalytics
from tests.api.conftest import World


def _progress(world: World, who: str, ect: str = "ect_a", suffix: str = "") -> Any:
    return world.client.get(
        f"/api/v1/ects/{world.users[ect]}/progress{suffix}", headers=world.auth(who)
    )


def test_each_viewer_counts_the_evidence_their_role_allows(world: World) -> None:
    """The ECT counts their own private reflection; the mentor and admin only the shared
    record (the mentor's shared clip, the ECT's clip shared with the mentor); the admin sees
    counts and dates, no clip titles or links."""
    seen = {}
    for who in ("ect_a", "mentor", "admin"):
        answer = _progress(world, who)
        assert answer.status_code == 200, answer.text
        seen[who] = answer.json()
    ect, mentor, admin = seen["ect_a"], seen["mentor"], seen["admin"]
    assert "never a score" in ect["note"]
    [strand] = ect["strands"]
    assert (strand["id"], strand["standard"], strand["clips"]) == ("ecf-2019:4e", 4, 3)
    assert [s["clips"] for s in mentor["strands"]] == [s["clips"] for s in admin["strands"]] == [2]
    latest = mentor["strands"][0]["latest"]
    assert latest["title"] in ("clip_shared", "clip_self_shared")
    assert latest["href"] == f"/clips/{latest['id']}"
    assert admin["strands"][0]["latest"] | {"day": None} == {
        "id": None, "title": "", "lesson_title": "Lesson of ect_a", "day": None, "href": None,
    }  # fmt: skip
    for body in (mentor, admin):
        text = json.dumps(body)
        for private in ('clip_self"', "clip_draft", "clip_expired", "clip_revoked"):
            assert private not in text
        assert world.ids["clip_self"] not in text and world.ids["clip_draft"] not in text

    today = half_term_of(utcnow().date())
    [term] = ect["terms"]  # no induction start: from the first record to today
    assert (term["key"], term["label"]) == (today.key, today.label)
    assert (term["lessons"], term["lessons_clipped"], term["clips"]) == (1, 1, 3)
    assert (mentor["terms"][0]["clips"], term["steps_set"]) == (2, 1)
    assert ect["steps"] == {"set": 1, "practised": 0, "closed": 0, "carried": 0, "current": 1}
    # the lesson's talk figures, made from its transcript (it has no stored analytics.json)
    [talk] = ect["talk"]
    assert talk["lesson_id"] == world.ids["lesson_a"] and talk["teacher_share"] is None
    assert talk["questions_per_ten_minutes"] == 0.0


def test_the_half_terms_run_from_the_induction_start(world: World) -> None:
    start = utcnow().date().replace(year=utcnow().year - 1, month=9, day=1)
    answer = world.client.patch(
        f"/api/v1/admin/users/{world.users['ect_a']}",
        json={"induction_start": start.isoformat()},
        headers=world.auth("admin"),
    )
    assert answer.status_code == 200, answer.text
    terms = _progress(world, "mentor").json()["terms"]
    assert terms[0]["label"].startswith("Autumn 1 ") and terms[0]["start"] == start.isoformat()
    assert terms[-1]["key"] == half_term_of(utcnow().date()).key
    assert sum(t["lessons"] for t in terms) == 1 and sum(t["lessons"] > 0 for t in terms) == 1


def test_stored_analytics_give_the_talk_figures(world: World) -> None:
    with session_scope(world.settings.database_url) as s:
        lesson = s.get(Lesson, world.ids["lesson_a"])
        assert lesson is not None
        key = lesson.artefact_key("analytics.json")
    base = _progress(world, "ect_a").json()["talk"][0]
    from pipeline.analytics import Talk

    stored = TalkAnalytics(
        duration=6.0, speech_seconds=4.0, silence_seconds=2.0,
        talk=(Talk("teacher", 3.0, 0.5, 6, 120.0), Talk("pupil", 1.0, 0.1667, 2, 120.0)),
        timeline=(), questions=(), questions_per_ten_minutes=20.0, open_questions=1,
        closed_questions=1, mean_wait=2.0, long_wait_share=0.5, words_per_minute=120.0,
        speakers=True,
    )  # fmt: skip
    world.storage.put_bytes(key, json.dumps(stored.to_dict()).encode())
    talk = _progress(world, "mentor").json()["talk"][0]
    assert (talk["long_wait_share"], talk["questions_per_ten_minutes"]) == (0.5, 20.0)
    assert talk["teacher_share"] == 0.5 and base["teacher_share"] is None


def test_nobody_else_learns_the_ect_exists(world: World) -> None:
    for who in ("ect_b", "mentor_b", "coach"):
        answer = _progress(world, who)
        assert answer.status_code == 404 and answer.json()["detail"] == "ECT not found"
        assert _progress(world, who, suffix=".csv").status_code == 404
    assert _progress(world, "admin", ect="mentor").status_code == 404  # not an ECT
    missing = world.client.get("/api/v1/ects/nobody/progress", headers=world.auth("admin"))
    assert missing.status_code == 404
    assert _progress(world, "anonymous").status_code == 401


def test_csv_holds_the_same_evidence_and_no_formulas(world: World) -> None:
    with session_scope(world.settings.database_url) as s:
        lesson = s.get(Lesson, world.ids["lesson_a"])
        assert lesson is not None
        lesson.title = '=HYPERLINK("http://evil")'
    answer = _progress(world, "mentor", suffix=".csv")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"].startswith('attachment; filename="progress-ect-a-')
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    sections = {r["section"] for r in rows}
    assert sections == {"half_term", "strand", "lesson_talk"}
    term = {r["measure"]: r["value"] for r in rows if r["section"] == "half_term"}
    assert (term["lessons"], term["clips"], term["steps_set"]) == ("1", "2", "1")
    [strand] = [r for r in rows if r["section"] == "strand"]
    assert strand["item"].startswith("4e ") and strand["value"] == "2"
    talk = [r for r in rows if r["section"] == "lesson_talk"]
    assert {r["item"] for r in talk} == {'\'=HYPERLINK("http://evil")'}
    with session_scope(world.settings.database_url) as s:
        actions = s.scalars(
            select(AuditEvent.action).where(AuditEvent.object_id == world.users["ect_a"])
        ).all()
        assert actions == ["ect.progress"]
