"""Notifications: derived from shares, comments, action steps and the observation rhythm, through
the access rules, so a user is only ever told about what they may see."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from models.account import User
from models.action_steps import ActionStep
from models.db import session_scope, utcnow
from models.notifications import NotificationRead, NotificationState
from tests.api.conftest import World

N = "/api/v1/notifications"


def _list(world: World, who: str) -> Any:
    r = world.client.get(N, headers=world.auth(who))
    assert r.status_code == 200, r.text
    return r.json()


def _kinds(listing: Any) -> list[str]:
    return sorted(i["kind"] for i in listing["items"] if not i["read"])


def test_each_user_is_told_only_about_what_they_see(world: World) -> None:
    ect_a = _list(world, "ect_a")
    # the active share (not the expired or revoked ones), the mentor's comment on it, and the
    # mentor's comment on ect_a's lesson; nothing about ect_a's own comments
    assert ect_a["counts"] == {"shares": 1, "comments": 2, "steps": 0, "observations": 0}
    assert ect_a["unread"] == 3
    share = next(i for i in ect_a["items"] if i["kind"] == "share")
    assert share["href"] == f"/clips/{world.ids['clip_shared']}"
    assert share["subject"] == "clip_shared"
    assert share["text"] == "Mentor shared a clip with you"
    hrefs = {i["href"] for i in ect_a["items"]}
    assert f"/lessons/{world.ids['lesson_a']}?t=2" in hrefs
    texts = {i["text"] for i in ect_a["items"]}
    assert texts == {
        "Mentor shared a clip with you",
        "Mentor commented on a clip shared with you",
        "Mentor commented on your lesson",
    }
    for hidden in ("clip_expired", "clip_revoked", "clip_draft", "clip_b"):
        assert f"/clips/{world.ids[hidden]}" not in hrefs

    mentor = _list(world, "mentor")  # ect_a's reflection shared with them, and its comment
    assert mentor["counts"] == {"shares": 1, "comments": 1, "steps": 0, "observations": 0}
    assert {i["href"] for i in mentor["items"]} == {f"/clips/{world.ids['clip_self_shared']}"}

    ect_b = _list(world, "ect_b")
    assert {i["href"] for i in ect_b["items"]} == {f"/clips/{world.ids['clip_b']}"}
    for who in ("admin", "coach"):
        assert _list(world, who) == {
            "unread": 0,
            "counts": {"shares": 0, "comments": 0, "steps": 0, "observations": 0},
            "items": [],
        }


def test_a_revoked_share_takes_its_notifications_with_it(world: World) -> None:
    clip, share = world.ids["clip_shared"], world.ids["share_clip_shared"]
    gone = world.client.delete(f"/api/v1/clips/{clip}/shares/{share}", headers=world.auth("mentor"))
    assert gone.status_code in (200, 204), gone.text
    ect_a = _list(world, "ect_a")
    assert f"/clips/{clip}" not in {i["href"] for i in ect_a["items"]}
    assert ect_a["counts"]["shares"] == 0
    assert ect_a["counts"]["comments"] == 1  # the lesson comment stays


def test_a_reply_reaches_the_thread_and_not_its_writer(world: World) -> None:
    parent = world.ids["comment_lesson_a"]
    made = world.client.post(
        f"/api/v1/lessons/{world.ids['lesson_a']}/comments",
        json={"at": 2.0, "body": "Thanks, I will try that", "parent_id": parent},
        headers=world.auth("ect_a"),
    )
    assert made.status_code == 201, made.text
    mentor = _list(world, "mentor")
    reply = next(i for i in mentor["items"] if i["key"] == f"comment:{made.json()['id']}")
    assert reply["text"] == "Ect A replied on a lesson"
    assert reply["excerpt"] == "Thanks, I will try that"
    assert reply["actor"]["id"] == world.users["ect_a"]
    assert reply["subject"] == "Lesson of ect_a"
    assert mentor["counts"]["comments"] == 2
    assert f"comment:{made.json()['id']}" not in {i["key"] for i in _list(world, "ect_a")["items"]}
    lesson_a = world.ids["lesson_a"]
    for who in ("mentor_b", "ect_b", "admin", "coach"):
        assert not any(lesson_a in i["href"] for i in _list(world, who)["items"])


def test_marking_read_one_by_one_and_all(world: World) -> None:
    h = world.auth("ect_a")
    items = _list(world, "ect_a")["items"]
    one = items[0]["key"]
    marked = world.client.post(f"{N}/read", json={"keys": [one, "share:made-up"]}, headers=h)
    assert marked.status_code == 200
    assert marked.json()["unread"] == 2
    assert next(i for i in marked.json()["items"] if i["key"] == one)["read"] is True
    everything = world.client.post(f"{N}/read-all", headers=h)
    assert everything.json()["unread"] == 0
    assert len(everything.json()["items"]) == 3  # still listed, as read
    # something new after "read all" is unread again
    new = world.client.post(
        f"/api/v1/lessons/{world.ids['lesson_a']}/comments",
        json={"at": 4.0, "body": "One more thing"},
        headers=world.auth("mentor"),
    )
    assert new.status_code == 201
    after = _list(world, "ect_a")
    assert after["unread"] == 1
    assert [i["key"] for i in after["items"] if not i["read"]] == [f"comment:{new.json()['id']}"]
    # another user's marks are their own
    assert _list(world, "mentor")["unread"] == 2
    bad = world.client.post(f"{N}/read", json={"keys": []}, headers=h)
    assert bad.status_code == 422


def _set_target(world: World, days: int) -> None:
    with session_scope(world.settings.database_url) as s:
        step = s.get(ActionStep, world.ids["step_a"])
        assert step is not None
        step.target_date = (utcnow() + timedelta(days=days)).date()


def test_action_steps_due_soon_then_overdue_then_practised(world: World) -> None:
    _set_target(world, 1)
    ect_a = _list(world, "ect_a")
    assert _kinds(ect_a).count("step_due") == 1
    due = next(i for i in ect_a["items"] if i["kind"] == "step_due")
    assert due["subject"] == "Wait three seconds after each question"
    assert due["href"] == "/"
    assert "step_due" not in _kinds(_list(world, "mentor"))  # due soon is the ECT's reminder
    world.client.post(f"{N}/read-all", headers=world.auth("ect_a"))
    with session_scope(world.settings.database_url) as s:  # that was two days ago
        state = s.get(NotificationState, world.users["ect_a"])
        assert state is not None and state.read_up_to is not None
        state.read_up_to -= timedelta(days=2)

    _set_target(world, -1)  # its date passed since: a new item, unread, for the mentor too
    assert [k for k in _kinds(_list(world, "ect_a")) if k.startswith("step")] == ["step_overdue"]
    overdue = next(i for i in _list(world, "mentor")["items"] if i["kind"] == "step_overdue")
    assert overdue["text"] == "Ect A's action step is overdue"
    assert overdue["href"] == f"/progress/{world.users['ect_a']}"
    for who in ("ect_b", "mentor_b", "admin", "coach"):
        assert _list(world, who)["counts"]["steps"] == 0

    done = world.client.post(
        f"/api/v1/action-steps/{world.ids['step_a']}/practised",
        json={"note": "Did it"},
        headers=world.auth("ect_a"),
    )
    assert done.status_code == 200
    assert _list(world, "ect_a")["counts"]["steps"] == 0
    mentor = _list(world, "mentor")
    assert "step_overdue" not in _kinds(mentor)
    practised = next(i for i in mentor["items"] if i["kind"] == "step_practised")
    assert practised["actor"]["id"] == world.users["ect_a"]


def test_observation_due_for_the_ect_and_their_mentor(world: World) -> None:
    today = utcnow().date()
    with session_scope(world.settings.database_url) as s:
        ect = s.get(User, world.users["ect_a"])
        step = s.get(ActionStep, world.ids["step_a"])
        assert ect is not None and step is not None
        ect.induction_start = today - timedelta(days=60)
        step.created_at = utcnow() - timedelta(days=9)  # last observed 9 days ago: weekly rhythm
    ect_a = _list(world, "ect_a")
    obs = next(i for i in ect_a["items"] if i["kind"] == "observation_due")
    assert obs["text"] == "Your next observation is due"
    assert obs["due"] == (today - timedelta(days=2)).isoformat()
    mentor = next(i for i in _list(world, "mentor")["items"] if i["kind"] == "observation_due")
    assert mentor["text"] == "Ect A's next observation is due"
    assert _list(world, "mentor_b")["counts"]["observations"] == 0
    with session_scope(world.settings.database_url) as s:
        step = s.get(ActionStep, world.ids["step_a"])
        assert step is not None
        step.created_at = utcnow()  # observed today: next one a week away
    assert _list(world, "ect_a")["counts"]["observations"] == 0


def test_erasing_a_person_removes_what_they_read(world: World) -> None:
    h = world.auth("ect_b")
    key = _list(world, "ect_b")["items"][0]["key"]
    world.client.post(f"{N}/read", json={"keys": [key]}, headers=h)
    with session_scope(world.settings.database_url) as s:
        assert s.get(NotificationRead, (world.users["ect_b"], key)) is not None
        s.add(NotificationState(user_id=world.users["ect_b"], emailed_up_to=utcnow()))
    erased = world.client.post(
        f"/api/v1/admin/users/{world.users['ect_b']}/erase", headers=world.auth("admin")
    )
    assert erased.status_code == 200, erased.text
    with session_scope(world.settings.database_url) as s:
        assert s.get(NotificationState, world.users["ect_b"]) is None
        assert s.query(NotificationRead).filter_by(user_id=world.users["ect_b"]).count() == 0
