"""A person's data over HTTP: an admin exports everything held about one user as a zip of JSON,
and erases a user completely (lessons, clips, files, search index), keeping their comments on
others' work under an anonymised name; the account can no longer sign in."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlalchemy import func, select

from models.account import Pairing, User
from models.action_steps import ActionStep
from models.audit import AuditEvent
from models.coaching import Clip, Comment, Share
from models.consent import LABELS as CONSENT_LABELS
from models.consent import Consent
from models.db import session_scope
from models.lesson import lesson_prefix
from models.retention import LessonTombstone
from models.settings import get_settings
from tests.api.conftest import PASSWORD, World

V1 = "/api/v1"


def _count(w: World, stmt) -> int:  # type: ignore[no-untyped-def]
    with session_scope(w.settings.database_url) as s:
        return int(s.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def test_the_export_holds_everything_about_the_person_and_nothing_of_others(world: World) -> None:
    w = world
    url = f"{V1}/admin/users/{w.users['ect_a']}/export"
    assert w.client.get(url, headers=w.auth("mentor")).status_code == 403
    answer = w.client.get(url, headers=w.auth("admin"))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/zip"
    assert "attachment" in answer.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    files = {name: json.loads(archive.read(name)) for name in archive.namelist()}
    assert set(files) == {
        "account.json", "lessons.json", "clips.json", "comments.json", "reflections.json",
        "action_steps.json", "shares.json", "deleted_lessons.json", "audit_events.json",
        "class_list.json",
    }  # fmt: skip
    account = files["account.json"][0]
    assert account["email"] == "ect_a@school.test" and "password_hash" not in account
    assert [lesson["id"] for lesson in files["lessons.json"]] == [w.ids["lesson_a"]]
    clip_ids = {clip["id"] for clip in files["clips.json"]}
    assert {w.ids["clip_shared"], w.ids["clip_self"]} <= clip_ids
    assert w.ids["clip_b"] not in clip_ids
    assert {c["id"] for c in files["comments.json"]} == {
        w.ids["comment_clip_self"],
        w.ids["comment_clip_self_shared"],
    }
    assert [s["id"] for s in files["action_steps.json"]] == [w.ids["step_a"]]
    assert w.ids["share_clip_shared"] in {s["id"] for s in files["shares.json"]}
    with session_scope(w.settings.database_url) as s:
        assert (
            s.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "user.export", AuditEvent.object_id == w.users["ect_a"]
                )
            )
            .one()
            .actor_id
            == w.users["admin"]
        )
    # an unknown person is 404
    missing = w.client.get(f"{V1}/admin/users/{'0' * 32}/export", headers=w.auth("admin"))
    assert missing.status_code == 404


def test_erasing_a_person_deletes_their_lessons_and_clips_and_keeps_others_comments(
    world: World,
) -> None:
    w = world
    ect, mentor, lesson_a = w.users["ect_a"], w.users["mentor"], w.ids["lesson_a"]
    assert w.client.get(f"{V1}/search", params={"q": "fractions"}, headers=w.auth("ect_a")).json()
    answer = w.client.post(f"{V1}/admin/users/{ect}/erase", headers=w.auth("admin"))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"lessons": 1, "clips": 0, "comments_kept": 0, "action_steps": 1}

    assert w.storage.list_keys(lesson_prefix(lesson_a)) == []
    hits = w.client.get(f"{V1}/search", params={"q": "fractions"}, headers=w.auth("mentor"))
    assert hits.json() == []
    assert _count(w, select(Clip.id).where(Clip.lesson_id == lesson_a)) == 0
    assert _count(w, select(Share.id).where(Share.recipient_id == ect)) == 0
    assert _count(w, select(ActionStep.id).where(ActionStep.ect_id == ect)) == 0
    assert _count(w, select(Pairing.id).where(Pairing.ect_id == ect)) == 0
    with session_scope(w.settings.database_url) as s:
        user = s.get(User, ect)
        assert user is not None and user.name == "Former colleague" and not user.active
        assert "ect_a" not in user.email
        tomb = s.get(LessonTombstone, lesson_a)
        assert tomb is not None and tomb.reason == "erasure"
        assert (
            s.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "user.erase", AuditEvent.object_id == ect
                )
            )
            .one()
            .actor_id
            == w.users["admin"]
        )
    # the old session is over and the old password no longer works
    assert w.client.get(f"{V1}/auth/me", headers=w.auth("ect_a")).status_code == 401
    token = w.client.post(
        f"{V1}/auth/token", data={"username": "ect_a@school.test", "password": PASSWORD}
    )
    assert token.status_code == 401
    # the mentor keeps their other ECT-free record; nothing of lesson_b changed
    assert w.storage.list_keys(lesson_prefix(w.ids["lesson_b"]))
    assert mentor


def test_erasing_a_mentor_deletes_their_clips_and_keeps_their_comments_as_a_former_colleague(
    world: World,
) -> None:
    w = world
    mentor = w.users["mentor"]
    # a comment by the mentor on ect_a's own clip stays, attributed to the anonymised account
    posted = w.client.post(
        f"{V1}/clips/{w.ids['clip_self_shared']}/comments",
        json={"at": 0.5, "body": "Nice wait time", "kind": "strength"},
        headers=w.auth("mentor"),
    )
    assert posted.status_code == 201, posted.text
    made = _count(w, select(Clip.id).where(Clip.author_id == mentor))
    answer = w.client.post(f"{V1}/admin/users/{mentor}/erase", headers=w.auth("admin"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["lessons"] == 0 and body["clips"] == made == 4
    assert _count(w, select(Clip.id).where(Clip.author_id == mentor)) == 0
    assert w.storage.list_keys(lesson_prefix(w.ids["lesson_a"]))  # ect_a's lesson stays
    with session_scope(w.settings.database_url) as s:
        kept = s.scalars(select(Comment).where(Comment.author_id == mentor)).all()
        assert "Nice wait time" in {c.body for c in kept}
    comments = w.client.get(
        f"{V1}/clips/{w.ids['clip_self_shared']}/comments", headers=w.auth("ect_a")
    ).json()
    authors = {c["author"]["name"] for c in comments if c.get("author")}
    assert "Former colleague" in authors and "Mentor" not in authors


def test_an_admin_cannot_erase_themselves(world: World) -> None:
    w = world
    answer = w.client.post(f"{V1}/admin/users/{w.users['admin']}/erase", headers=w.auth("admin"))
    assert answer.status_code == 409 and answer.json()["code"] == "erase_self"


def test_the_admin_reads_the_school_policy_the_deployment_runs(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = world
    policy_env = {
        "CLIPCOACH_CONSENT_DEFAULT": "blur_faces",
        "CLIPCOACH_RETENTION_DAYS": "30",
        "CLIPCOACH_RETENTION_TRANSCRIPT_DAYS": "7",
        "CLIPCOACH_RETENTION_SHARE_DAYS": "14",
    }
    for name, value in policy_env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        r = w.client.get(f"{V1}/admin/policy", headers=w.auth("admin"))
        for who in ("mentor", "ect_a", "coach"):
            assert w.client.get(f"{V1}/admin/policy", headers=w.auth(who)).status_code == 403
    finally:
        for name in policy_env:
            monkeypatch.delenv(name)
        get_settings.cache_clear()  # no later test reads this policy
    assert r.status_code == 200, r.text
    policy = r.json()
    assert policy["consent_default"] == "blur_faces"
    assert policy["consent_default_label"] == CONSENT_LABELS[Consent.blur_faces]
    assert (policy["retention_days"], policy["retention_transcript_days"]) == (30, 7)
    assert policy["retention_share_days"] == 14 and policy["email_notifications"] is False
    assert "smtp_password" not in policy and "secret_key" not in policy
