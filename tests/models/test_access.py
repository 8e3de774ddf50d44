"""The visibility rules as queries, checked on a small database, and the seam for coaches'
batches (a feature adds a lesson rule; nothing else changes)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, true
from sqlalchemy.orm import Session

from models import access
from models.account import Role, User
from models.accounts import create_user, pair
from models.coaching import Clip, Share
from models.db import session_scope, utcnow
from models.lesson import Lesson
from models.settings import Settings


@pytest.fixture
def db(settings: Settings) -> Iterator[Session]:
    with session_scope(settings.database_url) as session:
        yield session


def _user(db: Session, name: str, role: Role) -> User:
    user, _ = create_user(db, f"{name}@x.test", name, role, "a long test password")
    return user


def _lesson(db: Session, owner: User) -> Lesson:
    lesson = Lesson(owner_id=owner.id, source_key="k", title=owner.name)
    db.add(lesson)
    db.flush()
    return lesson


def visible(db: Session, user: User) -> set[str]:
    return set(db.scalars(select(Lesson.id).where(access.lesson_filter(user))))


def clips(db: Session, user: User) -> set[str]:
    return set(db.scalars(select(Clip.id).where(access.clip_filter(user))))


def test_lessons_each_role_sees(db: Session) -> None:
    ect, other = _user(db, "ect", Role.ect), _user(db, "other", Role.ect)
    mentor, coach = _user(db, "mentor", Role.mentor), _user(db, "coach", Role.coach)
    admin = _user(db, "admin", Role.admin)
    pair(db, mentor, ect)
    mine, theirs = _lesson(db, ect), _lesson(db, other)
    assert visible(db, ect) == {mine.id}
    assert visible(db, other) == {theirs.id}
    assert visible(db, mentor) == {mine.id}
    assert visible(db, coach) == set()
    assert visible(db, admin) == {mine.id, theirs.id}
    with pytest.raises(access.NotVisibleError):
        access.visible_lesson(db, other, mine.id)
    with pytest.raises(access.NotAllowedError):
        access.require_lesson_content(admin, mine)
    access.require_clip_create(db, ect, mine)  # an ECT clips their own lesson to reflect
    with pytest.raises(access.NotAllowedError):
        access.require_clip_create(db, other, mine)
    access.require_clip_create(db, mentor, mine)


def test_clips_are_seen_through_pairing_or_an_active_share(db: Session) -> None:
    ect, mentor = _user(db, "ect", Role.ect), _user(db, "mentor", Role.mentor)
    pair(db, mentor, ect)
    lesson = _lesson(db, ect)
    made = {}
    for name in ("active", "expired", "revoked", "draft", "forever"):
        clip = Clip(lesson_id=lesson.id, author_id=mentor.id, start=0, end=2)
        db.add(clip)
        db.flush()
        made[name] = clip.id
    now = utcnow()
    db.add_all(
        [
            Share(clip_id=made["active"], recipient_id=ect.id, until=now + timedelta(hours=1)),
            Share(clip_id=made["expired"], recipient_id=ect.id, until=now - timedelta(seconds=1)),
            Share(clip_id=made["revoked"], recipient_id=ect.id, revoked_at=now),
            Share(clip_id=made["forever"], recipient_id=ect.id),
        ]
    )
    db.flush()
    assert clips(db, ect) == {made["active"], made["forever"]}
    assert clips(db, mentor) == set(made.values())
    # a share's expiry is judged at the time asked about
    assert made["active"] not in set(
        db.scalars(select(Clip.id).where(access.clip_filter(ect, now + timedelta(hours=2))))
    )


def test_unpairing_ends_a_mentors_view(db: Session) -> None:
    ect, mentor = _user(db, "ect", Role.ect), _user(db, "mentor", Role.mentor)
    pairing = pair(db, mentor, ect)
    lesson = _lesson(db, ect)
    db.add(Clip(lesson_id=lesson.id, author_id=mentor.id, start=0, end=2))
    db.flush()
    db.delete(pairing)
    db.flush()
    assert visible(db, mentor) == set()
    assert clips(db, mentor) == set()


def test_a_feature_can_widen_lesson_visibility(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    coach, ect = _user(db, "coach", Role.coach), _user(db, "ect", Role.ect)
    lesson = _lesson(db, ect)
    monkeypatch.setattr(access, "_extra_lesson_rules", [])
    access.add_lesson_rule(lambda user: true() if user.role == Role.coach else None)
    access.add_lesson_rule(lambda user: None)
    assert visible(db, coach) == {lesson.id}
    assert visible(db, _user(db, "other", Role.ect)) == set()


def test_the_app_registers_the_coach_rule_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    from api.app import create_app
    from models import batch

    monkeypatch.setattr(access, "_extra_lesson_rules", [])
    create_app()
    assert access._extra_lesson_rules == [batch._batched_by]
