"""Retention over the world: the task deletes lessons past their date completely (rows, files,
search index, rendered clips) and keeps a tombstone and an audit event; others are untouched.
The lesson shows its date, and its owner or an admin may keep it longer within limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from models.audit import AuditEvent
from models.coaching import Clip, Comment
from models.db import session_scope, utcnow
from models.lesson import Lesson, lesson_prefix
from models.retention import LessonTombstone, purge_expired, school_policy
from models.settings import get_settings
from tests.api.conftest import World

V1 = "/api/v1"


@pytest.fixture
def thirty_days(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("CLIPCOACH_RETENTION_DAYS", "30")
    get_settings.cache_clear()
    return world


def _uploaded_days_ago(w: World, key: str, days: float) -> None:
    with session_scope(w.settings.database_url) as s:
        s.execute(
            update(Lesson)
            .where(Lesson.id == w.ids[key])
            .values(created_at=utcnow() - timedelta(days=days))
        )


def _hits(w: World, who: str, word: str) -> list[str]:
    answer = w.client.get(f"{V1}/search", params={"q": word}, headers=w.auth(who))
    assert answer.status_code == 200, answer.text
    return [hit["lesson_id"] for hit in answer.json()]


def test_a_lesson_past_its_date_is_deleted_completely_and_others_are_untouched(
    thirty_days: World,
) -> None:
    w = thirty_days
    lesson_a, lesson_b = w.ids["lesson_a"], w.ids["lesson_b"]
    _uploaded_days_ago(w, "lesson_a", 31)
    _uploaded_days_ago(w, "lesson_b", 29)
    assert lesson_a in _hits(w, "ect_a", "fractions")
    assert w.storage.list_keys(lesson_prefix(lesson_a))

    deleted = purge_expired(w.settings.database_url, w.storage, school_policy())

    assert deleted == [lesson_a]
    assert w.storage.list_keys(lesson_prefix(lesson_a)) == []
    assert _hits(w, "ect_a", "fractions") == []
    assert w.client.get(f"{V1}/lessons/{lesson_a}", headers=w.auth("ect_a")).status_code == 404
    clip = w.client.get(f"{V1}/clips/{w.ids['clip_shared']}", headers=w.auth("ect_a"))
    assert clip.status_code == 404
    with session_scope(w.settings.database_url) as s:
        assert (
            s.scalar(select(func.count()).select_from(Clip).where(Clip.lesson_id == lesson_a)) == 0
        )
        assert (
            s.scalar(select(func.count()).select_from(Comment).where(Comment.lesson_id == lesson_a))
            == 0
        )
        tomb = s.get(LessonTombstone, lesson_a)
        assert tomb is not None
        assert (tomb.owner_id, tomb.reason, tomb.deleted_by) == (
            w.users["ect_a"],
            "retention",
            None,
        )
        event = s.scalars(
            select(AuditEvent).where(
                AuditEvent.object_id == lesson_a, AuditEvent.action == "lesson.expire"
            )
        ).one()
        assert event.actor_id is None and event.detail == {"reason": "retention"}
        assert "Lesson of" not in str(event.detail)  # the fact, not the content
    # lesson_b, a day from its date, is untouched
    assert w.storage.list_keys(lesson_prefix(lesson_b))
    assert lesson_b in _hits(w, "ect_b", "whiteboards")
    answer = w.client.get(f"{V1}/lessons/{lesson_b}", headers=w.auth("ect_b")).json()
    assert answer["deletion_soon"] is True
    assert answer["deletes_on"].startswith((utcnow() + timedelta(days=1)).date().isoformat())


def test_a_lesson_kept_longer_is_not_deleted_until_then(thirty_days: World) -> None:
    w = thirty_days
    lesson_a = w.ids["lesson_a"]
    _uploaded_days_ago(w, "lesson_a", 29)
    until = (utcnow() + timedelta(days=20)).replace(microsecond=0)
    answer = w.client.put(
        f"{V1}/lessons/{lesson_a}/keep-until",
        json={"keep_until": until.isoformat()},
        headers=w.auth("ect_a"),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["deletes_on"].startswith(until.date().isoformat())
    assert answer.json()["deletion_soon"] is False
    _uploaded_days_ago(w, "lesson_a", 40)  # now past the school's date, not past keep_until

    assert purge_expired(w.settings.database_url, w.storage, school_policy()) == []
    assert w.storage.list_keys(lesson_prefix(lesson_a))
    with session_scope(w.settings.database_url) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "lesson.keep_until")).one()
        assert event.actor_id == w.users["ect_a"] and event.object_id == lesson_a
    # when keep_until has passed too, it goes
    assert purge_expired(
        w.settings.database_url, w.storage, school_policy(), now=until + timedelta(seconds=1)
    ) == [lesson_a]


def test_keep_until_limits_owner_admin_and_mentor(thirty_days: World) -> None:
    w = thirty_days
    url = f"{V1}/lessons/{w.ids['lesson_a']}/keep-until"
    far = (utcnow() + timedelta(days=100)).isoformat()
    owner = w.client.put(url, json={"keep_until": far}, headers=w.auth("ect_a"))
    assert owner.status_code == 422 and owner.json()["code"] == "keep_until_too_late"
    assert "30 days past the school's date" in owner.json()["detail"]
    assert w.client.put(url, json={"keep_until": far}, headers=w.auth("admin")).status_code == 200
    assert w.client.put(url, json={"keep_until": far}, headers=w.auth("mentor")).status_code == 403
    past = w.client.put(url, json={"keep_until": "2020-01-01T00:00:00Z"}, headers=w.auth("admin"))
    assert past.status_code == 422 and past.json()["code"] == "keep_until_past"
    naive = w.client.put(url, json={"keep_until": "2030-01-01T00:00:00"}, headers=w.auth("admin"))
    assert naive.status_code == 422
    back = w.client.put(url, json={"keep_until": None}, headers=w.auth("admin"))
    assert back.status_code == 200 and back.json()["keep_until"] is None


def test_a_school_that_keeps_lessons_shows_no_date_and_refuses_keep_until(world: World) -> None:
    w = world
    _uploaded_days_ago(w, "lesson_a", 3650)
    answer = w.client.get(f"{V1}/lessons/{w.ids['lesson_a']}", headers=w.auth("ect_a")).json()
    assert answer["deletes_on"] is None and answer["deletion_soon"] is False
    assert purge_expired(w.settings.database_url, w.storage, school_policy()) == []
    refused = w.client.put(
        f"{V1}/lessons/{w.ids['lesson_a']}/keep-until",
        json={"keep_until": (utcnow() + timedelta(days=5)).isoformat()},
        headers=w.auth("ect_a"),
    )
    assert refused.status_code == 409 and refused.json()["code"] == "retention_off"


def test_deleting_a_lesson_by_hand_leaves_a_tombstone(world: World) -> None:
    w = world
    lesson_a = w.ids["lesson_a"]
    assert w.client.delete(f"{V1}/lessons/{lesson_a}", headers=w.auth("ect_a")).status_code == 204
    assert w.storage.list_keys(lesson_prefix(lesson_a)) == []
    assert _hits(w, "ect_a", "fractions") == []
    with session_scope(w.settings.database_url) as s:
        tomb = s.get(LessonTombstone, lesson_a)
        assert tomb is not None and (tomb.reason, tomb.deleted_by) == ("deleted", w.users["ect_a"])
