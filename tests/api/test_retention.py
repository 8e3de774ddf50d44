"""Retention over the world: the task deletes lessons past their date completely (rows, files,
search index, rendered clips) and keeps a tombstone and an audit event; others are untouched.
The lesson shows its date, and its owner or an admin may keep it longer within limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models.audit import AuditEvent
from models.coaching import Clip, Comment
from models.db import session_scope, utcnow
from models.lesson import Lesson, lesson_prefix
from models.retention import (
    LessonTombstone,
    act_on_due,
    deletes_on,
    expired,
    purge_expired,
    school_policy,
)
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


def _set_days(monkeypatch: pytest.MonkeyPatch, **days: int) -> None:
    for name, value in days.items():
        monkeypatch.setenv(f"CLIPCOACH_RETENTION_{name.upper()}", str(value))
    get_settings.cache_clear()


def _keep_a_version(w: World, key: str) -> None:
    """An earlier transcript kept beside the current one (as a re-transcription leaves)."""
    from models.transcription import TranscriptionSettings, archive_current

    with session_scope(w.settings.database_url) as s:
        lesson = s.get(Lesson, w.ids[key])
        assert lesson is not None
        made = TranscriptionSettings(model="tiny.en", language="en", vocabulary=[])
        assert archive_current(s, w.storage, lesson, made) is not None


TRANSCRIPT_NAMES = ("transcript.", "transcripts/", "segments.json", "analytics.json")


def test_transcripts_past_their_date_go_and_the_lesson_and_coaching_stay(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from models.retention import enforce
    from models.transcription import TranscriptVersion

    w = world
    _set_days(monkeypatch, days=60, transcript_days=7)
    lesson_a, lesson_b = w.ids["lesson_a"], w.ids["lesson_b"]
    _keep_a_version(w, "lesson_a")
    _uploaded_days_ago(w, "lesson_a", 8)
    _uploaded_days_ago(w, "lesson_b", 6)
    before = w.client.get(f"{V1}/lessons/{lesson_a}", headers=w.auth("ect_a")).json()
    assert before["transcript_deletes_on"] < before["deletes_on"]
    prefix = lesson_prefix(lesson_a)
    assert any("/transcripts/v1/" in k for k in w.storage.list_keys(prefix))

    done = enforce(w.settings.database_url, w.storage, school_policy())

    assert (done.lessons, done.transcripts, done.shares) == ([], [lesson_a], [])
    keys = [k.removeprefix(prefix + "/") for k in w.storage.list_keys(prefix)]
    assert not [k for k in keys if k.startswith(TRANSCRIPT_NAMES)], keys
    assert not [k for k in keys if k.startswith("clips/")], keys  # captions quoted the words
    assert {"source.mp4", "lesson.mp4", "poster.jpg"} <= set(keys)
    assert _hits(w, "ect_a", "fractions") == []
    answer = w.client.get(f"{V1}/lessons/{lesson_a}", headers=w.auth("ect_a")).json()
    assert answer["transcripts_deleted_at"] is not None and answer["transcribe"] is False
    words = w.client.get(f"{V1}/lessons/{lesson_a}/transcript", headers=w.auth("ect_a"))
    assert words.status_code in (404, 409)
    segments = w.client.get(f"{V1}/lessons/{lesson_a}/segments", headers=w.auth("ect_a"))
    assert segments.status_code == 404
    # the coaching stays: the clip, its comment, the share (its file renders again, wordless)
    clip = w.client.get(f"{V1}/clips/{w.ids['clip_shared']}", headers=w.auth("ect_a"))
    assert clip.status_code == 200
    with session_scope(w.settings.database_url) as s:
        assert s.scalar(select(func.count()).select_from(TranscriptVersion)) == 0
        assert s.get(Comment, w.ids["comment_clip_shared"]) is not None
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "lesson.transcripts_expire")
        ).one()
        assert (event.actor_id, event.object_id) == (None, lesson_a)
        assert "fractions" not in str(event.detail)
    # lesson_b, a day before its transcript date, is untouched; a second run deletes nothing
    assert lesson_b in _hits(w, "ect_b", "whiteboards")
    assert enforce(w.settings.database_url, w.storage, school_policy()).transcripts == []


def test_only_an_admin_keeps_transcripts_longer_and_it_is_audited(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from models.retention import enforce

    w = world
    _set_days(monkeypatch, transcript_days=7)
    lesson_a = w.ids["lesson_a"]
    url = f"{V1}/lessons/{lesson_a}/transcript-keep-until"
    until = (utcnow() + timedelta(days=30)).replace(microsecond=0)
    body = {"transcript_keep_until": until.isoformat()}
    assert w.client.put(url, json=body, headers=w.auth("ect_a")).status_code == 403
    assert w.client.put(url, json=body, headers=w.auth("mentor")).status_code == 403
    answer = w.client.put(url, json=body, headers=w.auth("admin"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["transcript_deletes_on"].startswith(until.date().isoformat())
    too_late = {"transcript_keep_until": (utcnow() + timedelta(days=3000)).isoformat()}
    refused = w.client.put(url, json=too_late, headers=w.auth("admin"))
    assert refused.status_code == 422 and refused.json()["code"] == "keep_until_too_late"
    _uploaded_days_ago(w, "lesson_a", 10)

    assert enforce(w.settings.database_url, w.storage, school_policy()).transcripts == []
    assert lesson_a in _hits(w, "ect_a", "fractions")
    with session_scope(w.settings.database_url) as s:
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "lesson.transcript_keep_until")
        ).one()
        assert event.actor_id == w.users["admin"] and event.object_id == lesson_a
    later = enforce(
        w.settings.database_url, w.storage, school_policy(), now=until + timedelta(seconds=1)
    )
    assert lesson_a in later.transcripts  # (lesson_b, a month older by then, too)


def test_shares_go_when_they_end_or_after_the_school_period(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from models.coaching import Share
    from models.retention import enforce

    w = world
    _set_days(monkeypatch, share_days=30)
    live, old = w.ids["share_clip_shared"], w.ids["share_clip_self_shared"]
    with session_scope(w.settings.database_url) as s:
        s.execute(
            update(Share).where(Share.id == old).values(created_at=utcnow() - timedelta(days=31))
        )
    feed = w.client.get(f"{V1}/feed", headers=w.auth("ect_a")).json()
    [item] = [i for i in feed if i["share_id"] == live]
    assert item["deletes_on"] == item["until"]  # its own end comes before the school's
    files = {}
    with session_scope(w.settings.database_url) as s:
        for key in ("clip_shared", "clip_expired", "clip_revoked", "clip_self_shared"):
            clip = s.get(Clip, w.ids[key])
            assert clip is not None and clip.media_key
            files[key] = clip.media_key

    done = enforce(w.settings.database_url, w.storage, school_policy())

    ended = {w.ids[f"share_{k}"] for k in ("clip_expired", "clip_revoked", "clip_self_shared")}
    assert set(done.shares) == ended
    with session_scope(w.settings.database_url) as s:
        assert {i for (i,) in s.execute(select(Share.id))} == {live, w.ids["share_clip_b"]}
        kept = s.get(Clip, w.ids["clip_self_shared"])
        assert kept is not None and kept.media_key is None  # the clip stays, unrendered
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "share.expire")).all()
        assert {e.detail["share_id"] for e in events} == ended
    assert w.storage.exists(files["clip_shared"])
    for key in ("clip_expired", "clip_revoked", "clip_self_shared"):
        assert not w.storage.exists(files[key]), key
    # the mentor no longer sees ect_a's reflection; ect_a still sees the live share
    gone = w.client.get(f"{V1}/clips/{w.ids['clip_self_shared']}", headers=w.auth("mentor"))
    assert gone.status_code == 404
    assert (
        w.client.get(f"{V1}/clips/{w.ids['clip_shared']}", headers=w.auth("ect_a")).status_code
        == 200
    )


def test_a_lesson_whose_date_moves_after_listing_is_left_alone(thirty_days: World) -> None:
    """Between the listing and the lock its owner keeps it longer, or it is deleted: the row as
    it stands under the lock decides, for lessons, transcripts and shares alike."""
    w = thirty_days
    lesson_a, lesson_b = w.ids["lesson_a"], w.ids["lesson_b"]
    _uploaded_days_ago(w, "lesson_a", 31)
    _uploaded_days_ago(w, "lesson_b", 31)
    policy, now = school_policy(), utcnow()

    def listed_then_kept(session: Session) -> list[str]:
        due = expired(session, policy, now)
        with session_scope(w.settings.database_url) as other:  # the owner, meanwhile
            other.execute(
                update(Lesson)
                .where(Lesson.id == lesson_a)
                .values(keep_until=now + timedelta(days=5))
            )
        return [*due, "no-such-lesson"]

    acted: list[str] = []
    done = act_on_due(
        w.settings.database_url,
        Lesson,
        listed_then_kept,
        lambda lesson: deletes_on(lesson.created_at, lesson.keep_until, policy),
        lambda session, lesson: acted.append(lesson.id),
        now,
    )
    assert done == acted == [lesson_b]
