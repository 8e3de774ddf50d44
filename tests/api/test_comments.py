"""Comments on a whole lesson, and authors editing or removing their comments and replies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from models.audit import AuditEvent
from models.coaching import Comment
from models.db import session_scope, utcnow
from tests.api.conftest import LESSON_SECONDS, World


def _lesson_comments(world: World, who: str) -> Any:
    return world.client.get(
        f"/api/v1/lessons/{world.ids['lesson_a']}/comments", headers=world.auth(who)
    )


def _comment(world: World, who: str, **json: Any) -> Any:
    return world.client.post(
        f"/api/v1/lessons/{world.ids['lesson_a']}/comments",
        json={"at": 1.0, "body": "x", **json},
        headers=world.auth(who),
    )


def test_lesson_comments_are_read_by_the_owner_and_mentor_only(world: World) -> None:
    made = _comment(world, "ect_a", at=4.5, body="I lost them here", kind="question")
    assert made.status_code == 201, made.text
    assert made.json()["lesson_id"] == world.ids["lesson_a"]
    assert made.json()["clip_id"] is None
    mentor = _lesson_comments(world, "mentor").json()
    assert [(c["at"], c["body"]) for c in mentor] == [
        (2.0, "Whole lesson"),
        (4.5, "I lost them here"),
    ]
    # the mentor may not change the ECT's words, and is told so with a code
    assert mentor[1]["editable_until"] is None and mentor[0]["editable_until"] is not None
    for who, status in (("ect_b", 404), ("mentor_b", 404), ("coach", 404), ("admin", 403)):
        assert _lesson_comments(world, who).status_code == status, who
        assert _comment(world, who).status_code == status, who


def test_a_lesson_comment_must_fall_inside_the_lesson(world: World) -> None:
    late = _comment(world, "mentor", at=LESSON_SECONDS + 1)
    assert late.status_code == 422
    assert late.json()["code"] == "comment_at_too_late"


def test_the_author_edits_within_the_window_and_it_shows_edited(world: World) -> None:
    cid = world.ids["comment_lesson_a"]
    edited = world.client.patch(
        f"/api/v1/comments/{cid}", json={"body": "Whole lesson: pace"}, headers=world.auth("mentor")
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["body"] == "Whole lesson: pace"
    assert edited.json()["edited_at"] is not None
    refused = world.client.patch(
        f"/api/v1/comments/{cid}", json={"body": "mine now"}, headers=world.auth("ect_a")
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "comment_not_author"
    with session_scope(world.settings.database_url) as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "comment.edit")).all()
        assert [(e.actor_id, e.detail["comment_id"]) for e in events] == [
            (world.users["mentor"], cid)
        ]
        assert "Whole lesson: pace" not in str(events[0].detail)  # no words in the admin's log


def test_after_the_window_an_edit_or_delete_is_409(world: World) -> None:
    cid = world.ids["comment_clip_shared"]
    with session_scope(world.settings.database_url) as s:
        comment = s.get(Comment, cid)
        assert comment is not None
        comment.created_at = utcnow() - timedelta(hours=25)
    headers = world.auth("mentor")
    edit = world.client.patch(f"/api/v1/comments/{cid}", json={"body": "late"}, headers=headers)
    delete = world.client.delete(f"/api/v1/comments/{cid}", headers=headers)
    for answer in (edit, delete):
        assert answer.status_code == 409
        assert answer.json()["code"] == "comment_edit_window_closed"
    listed = world.client.get(
        f"/api/v1/clips/{world.ids['clip_shared']}/comments", headers=headers
    ).json()
    assert listed[0]["editable_until"] is None


def test_removing_a_comment_with_replies_keeps_the_thread(world: World) -> None:
    parent = world.ids["comment_lesson_a"]
    reply = _comment(world, "ect_a", parent_id=parent, body="I will try that").json()
    gone = world.client.delete(f"/api/v1/comments/{parent}", headers=world.auth("mentor"))
    assert gone.status_code == 204
    [thread] = _lesson_comments(world, "ect_a").json()
    assert (thread["id"], thread["deleted"], thread["body"]) == (parent, True, "")
    assert [r["body"] for r in thread["replies"]] == ["I will try that"]
    again = _comment(world, "ect_a", parent_id=parent)
    assert again.status_code == 409 and again.json()["code"] == "comment_removed"
    # the last reply going takes the removed comment with it: nothing is left to read
    assert (
        world.client.delete(
            f"/api/v1/comments/{reply['id']}", headers=world.auth("ect_a")
        ).status_code
        == 204
    )
    assert _lesson_comments(world, "ect_a").json() == []
    with session_scope(world.settings.database_url) as s:
        actions = s.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "comment.delete")
        ).all()
        assert len(actions) == 2


def test_removing_a_clip_comment_without_replies_removes_it(world: World) -> None:
    cid, clip = world.ids["comment_clip_self"], world.ids["clip_self"]
    assert (
        world.client.delete(f"/api/v1/comments/{cid}", headers=world.auth("ect_a")).status_code
        == 204
    )
    listed = world.client.get(f"/api/v1/clips/{clip}/comments", headers=world.auth("ect_a"))
    assert listed.json() == []
    clip_row = world.client.get(f"/api/v1/clips/{clip}", headers=world.auth("ect_a")).json()
    assert clip_row["comment_count"] == 0
