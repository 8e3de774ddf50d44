"""Model practice (issue 22 point 3): a teacher's own clips shown to ECTs, ECT groups, the
school's library; an ECT's lesson never reaches another ECT; an ECT's comment on a model clip
stays private to them, the clip's teacher and their mentor."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Media, World, add_model_practice

V1 = "/api/v1"


@pytest.fixture
def practice(world: World, media: Media) -> World:
    add_model_practice(world, media)
    return world


def _get(world: World, who: str, path: str, **params: Any) -> Any:
    response = world.client.get(f"{V1}{path}", headers=world.auth(who), params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _status(world: World, who: str, method: str, path: str, **kwargs: Any) -> int:
    return world.client.request(
        method, f"{V1}{path}", headers=world.auth(who), **kwargs
    ).status_code


def _code(response: Any) -> str:
    return response.json().get("code")


def _listed(world: World, who: str, **params: Any) -> set[str]:
    return {m["clip_id"] for m in _get(world, who, "/model-clips", **params)}


def test_a_group_share_reaches_its_members_and_no_other_ect(practice: World) -> None:
    w, ids = practice, practice.ids
    clip = ids["clip_model_group"]
    for member in ("ect_b", "ect_c"):
        assert _status(w, member, "GET", f"/clips/{clip}") == 200
        assert _status(w, member, "GET", f"/clips/{clip}/media") == 200
    for outsider in ("ect_a", "mentor_b", "coach", "admin"):
        assert _status(w, outsider, "GET", f"/clips/{clip}") == 404
        assert _status(w, outsider, "GET", f"/clips/{clip}/media") == 404
    library = ids["clip_model_library"]
    assert _listed(w, "ect_b") == _listed(w, "ect_c") == {clip, library}
    assert _listed(w, "ect_a") == {ids["clip_model_paired"], library}  # revoked share: gone
    assert _listed(w, "ect_a", scope="library") == {library}
    # membership is read when the clip is asked for: one who leaves stops seeing it at once
    response = w.client.put(
        f"{V1}/ect-groups/{ids['group_g']}/members",
        headers=w.auth("mentor"),
        json={"ect_ids": [w.users["ect_b"]]},
    )
    assert response.status_code == 200, response.text
    assert _status(w, "ect_c", "GET", f"/clips/{clip}") == 404
    assert _status(w, "ect_b", "GET", f"/clips/{clip}") == 200


def test_an_ects_lesson_is_never_model_practice(practice: World) -> None:
    w, ids = practice, practice.ids
    # the paired mentor on their ECT's lesson, the ECT on their own clip and on the mentor's
    for who, clip in (("mentor", "clip_shared"), ("ect_a", "clip_self"), ("ect_a", "clip_shared")):
        response = w.client.put(f"{V1}/clips/{ids[clip]}/model", headers=w.auth(who), json={})
        assert (response.status_code, _code(response)) == (409, "model_ect_lesson"), who
    response = w.client.put(f"{V1}/clips/{ids['clip_shared']}/library", headers=w.auth("admin"))
    assert (response.status_code, _code(response)) == (409, "model_ect_lesson")
    # even rows written around the API give no other ECT an ECT's lesson
    from models.db import session_scope, utcnow
    from models.model_practice import ModelClip, ModelShare

    with session_scope(w.settings.database_url) as s:
        s.add(ModelClip(clip_id=ids["clip_shared"], consented_by=w.users["mentor"],
                        published_at=utcnow()))  # fmt: skip
        s.flush()
        s.add(ModelShare(clip_id=ids["clip_shared"], group_id=ids["group_g"]))
    for ect in ("ect_b", "ect_c"):
        assert _status(w, ect, "GET", f"/clips/{ids['clip_shared']}") == 404
        assert ids["clip_shared"] not in _listed(w, ect)
    assert ids["clip_shared"] not in _listed(w, "admin")


def test_publishing_needs_the_owners_recorded_consent(practice: World) -> None:
    w, ids = practice, practice.ids
    unmarked = ids["clip_model_unmarked"]
    response = w.client.put(f"{V1}/clips/{unmarked}/library", headers=w.auth("admin"))
    assert (response.status_code, _code(response)) == (409, "model_no_owner_consent")
    response = w.client.put(
        f"{V1}/clips/{unmarked}/model", headers=w.auth("mentor"), json={"note": "Wait time"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["note"] == "Wait time"
    response = w.client.put(f"{V1}/clips/{unmarked}/library", headers=w.auth("admin"))
    assert response.status_code == 200, response.text
    assert response.json()["published_at"]
    assert unmarked in _listed(w, "ect_a", scope="library")
    # the consent and the publication are both in the audit
    audit = _get(w, "admin", "/admin/audit", object_id=unmarked)
    actions = [e["action"] for e in (audit["items"] if isinstance(audit, dict) else audit)]
    assert {"model.mark", "model.publish"} <= set(actions)
    # an admin sees the record, never the recording
    assert _status(w, "admin", "GET", f"/clips/{unmarked}/media") == 404
    # withdrawing the consent ends the library entry and every share
    assert _status(w, "mentor", "DELETE", f"/clips/{unmarked}/model") == 204
    assert _status(w, "ect_a", "GET", f"/clips/{unmarked}") == 404
    assert _status(w, "mentor", "DELETE", f"/clips/{ids['clip_model_group']}/model") == 204
    assert _status(w, "ect_b", "GET", f"/clips/{ids['clip_model_group']}") == 404


def test_the_library_filters_by_strand_and_words(practice: World) -> None:
    w, ids = practice, practice.ids
    assert _status(w, "admin", "PUT", f"/clips/{ids['clip_model_group']}/library") == 200
    both = {ids["clip_model_group"], ids["clip_model_library"]}
    assert _listed(w, "mentor_b", scope="library") == both
    assert _listed(w, "mentor_b", scope="library", strand_id="ecf-2019:2a") == {
        ids["clip_model_library"]
    }
    assert _listed(w, "mentor_b", scope="library", strand_id="ecf-2019:4e") == {
        ids["clip_model_group"]
    }
    assert _listed(w, "coach", q="model_group") == {ids["clip_model_group"]}
    assert _listed(w, "admin", scope="library") == both
    mine = _listed(w, "mentor", scope="mine")
    assert mine == {ids[k] for k in ("clip_model_group", "clip_model_paired",
                                     "clip_model_revoked", "clip_model_library")}  # fmt: skip


def test_sharing_goes_to_paired_ects_or_a_visible_group(practice: World) -> None:
    w, ids = practice, practice.ids
    clip = ids["clip_model_paired"]
    share = w.client.post
    response = share(f"{V1}/clips/{clip}/model-shares", headers=w.auth("mentor"),
                     json={"ect_id": w.users["ect_b"]})  # fmt: skip
    assert (response.status_code, _code(response)) == (409, "model_not_paired")
    response = share(f"{V1}/clips/{clip}/model-shares", headers=w.auth("mentor"),
                     json={"ect_id": w.users["ect_a"], "group_id": ids["group_g"]})  # fmt: skip
    assert response.status_code == 422
    # the admin's school-wide group is there for every mentor
    response = share(f"{V1}/clips/{ids['clip_model_unmarked']}/model-shares",
                     headers=w.auth("mentor"), json={"group_id": ids["group_admin"]})  # fmt: skip
    assert (response.status_code, _code(response)) == (409, "model_not_marked")
    response = share(f"{V1}/clips/{ids['clip_model_library']}/model-shares",
                     headers=w.auth("mentor"), json={"group_id": ids["group_admin"]})  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.json()["group"]["name"] == "group_admin"
    again = share(f"{V1}/clips/{ids['clip_model_library']}/model-shares",
                  headers=w.auth("mentor"), json={"group_id": ids["group_admin"]})  # fmt: skip
    assert again.json()["id"] == response.json()["id"]
    shares = _get(w, "mentor", f"/clips/{ids['clip_model_library']}/model-shares")
    assert [s["id"] for s in shares] == [response.json()["id"]]
    # revoking ends it
    revoke = f"/clips/{clip}/model-shares/{ids['share_model_paired']}"
    assert _status(w, "mentor", "DELETE", revoke) == 204
    assert _status(w, "ect_a", "GET", f"/clips/{clip}") == 404


def test_an_ects_comment_on_a_model_clip_stays_with_them(practice: World) -> None:
    """ect_b and ect_c both see clip_model_group; neither reads what the other wrote on it."""
    w, ids = practice, practice.ids
    clip = ids["clip_model_group"]

    def bodies(who: str) -> set[str]:
        thread = _get(w, who, f"/clips/{clip}/comments")
        return {c["body"] for c in thread} | {r["body"] for c in thread for r in c["replies"]}

    assert bodies("ect_b") == bodies("mentor") == {"Written by ect_b", "Written by mentor"}
    assert bodies("ect_c") == {"Written by mentor"}
    # ect_c can neither reply to nor change ect_b's comment
    response = w.client.post(f"{V1}/clips/{clip}/comments", headers=w.auth("ect_c"),
                             json={"at": 1.0, "body": "Me too",
                                   "parent_id": ids["comment_model_ect_b"]})  # fmt: skip
    assert response.status_code == 404
    assert _status(w, "ect_c", "PATCH", f"/comments/{ids['comment_model_ect_b']}",
                   json={"body": "x"}) == 404  # fmt: skip
    # the owner's reply to ect_b stays in ect_b's thread
    response = w.client.post(f"{V1}/clips/{clip}/comments", headers=w.auth("mentor"),
                             json={"at": 1.0, "body": "Good question",
                                   "parent_id": ids["comment_model_ect_b"]})  # fmt: skip
    assert response.status_code == 201, response.text
    assert "Good question" in bodies("ect_b")
    assert "Good question" not in bodies("ect_c")
    # ect_c's reply to the owner's comment is not shown to ect_b
    response = w.client.post(f"{V1}/clips/{clip}/comments", headers=w.auth("ect_c"),
                             json={"at": 1.0, "body": "From C",
                                   "parent_id": ids["comment_model_owner"]})  # fmt: skip
    assert response.status_code == 201, response.text
    assert "From C" in bodies("ect_c") and "From C" in bodies("mentor")
    assert "From C" not in bodies("ect_b")
    # nor do notifications tell ect_b of it
    told = w.client.get(f"{V1}/notifications", headers=w.auth("ect_b")).text
    assert "From C" not in told


def test_the_lessons_consent_applies_to_model_clips(practice: World, inline_queue: object) -> None:
    w, ids = practice, practice.ids
    lesson, clip = ids["lesson_m"], ids["clip_model_group"]
    put = w.client.put
    response = put(f"{V1}/lessons/{lesson}/consent", headers=w.auth("mentor"),
                   json={"consent": "not_shared"})  # fmt: skip
    assert response.status_code == 200, response.text
    response = w.client.get(f"{V1}/clips/{clip}/media", headers=w.auth("ect_b"))
    assert response.status_code == 409
    for method, path, body in (
        ("PUT", f"/clips/{ids['clip_model_unmarked']}/model", {}),
        ("POST", f"/clips/{clip}/model-shares", {"group_id": ids["group_admin"]}),
    ):
        response = w.client.request(method, f"{V1}{path}", headers=w.auth("mentor"), json=body)
        assert (response.status_code, _code(response)) == (409, "consent_not_shared"), path
    response = w.client.put(f"{V1}/clips/{clip}/library", headers=w.auth("admin"))
    assert (response.status_code, _code(response)) == (409, "consent_not_shared")
    # blurred faces: the ECT gets the blurred render, as through any share
    response = put(f"{V1}/lessons/{lesson}/consent", headers=w.auth("mentor"),
                   json={"consent": "blur_faces"})  # fmt: skip
    assert response.status_code == 200, response.text
    w.client.get(f"{V1}/clips/{clip}/media", headers=w.auth("ect_b"))  # queues the render
    inline_queue.join()  # type: ignore[attr-defined]
    response = w.client.get(f"{V1}/clips/{clip}/media", headers=w.auth("ect_b"))
    assert response.status_code == 200, response.text
    from models.coaching import Clip
    from models.db import session_scope

    with session_scope(w.settings.database_url) as s:
        row = s.get(Clip, clip)
        assert row is not None and row.media_key is not None
        assert row.media_key.endswith("-blurred.mp4")


def test_only_mentors_and_allowed_teachers_mark_model_practice(
    practice: World, media: Media
) -> None:
    from models.coaching import Clip
    from models.db import session_scope
    from models.lesson import Lesson

    w = practice
    with session_scope(w.settings.database_url) as s:
        lesson = Lesson(owner_id=w.users["coach"], title="Coach's lesson", source_key="k",
                        source_filename="k.mp4", duration=10.0)  # fmt: skip
        s.add(lesson)
        s.flush()
        clip = Clip(lesson_id=lesson.id, author_id=w.users["coach"], start=1.0, end=3.0)
        s.add(clip)
        s.flush()
        clip_id = clip.id
    response = w.client.put(f"{V1}/clips/{clip_id}/model", headers=w.auth("coach"), json={})
    assert (response.status_code, _code(response)) == (403, "model_not_allowed")
    response = w.client.patch(f"{V1}/admin/users/{w.users['coach']}", headers=w.auth("admin"),
                              json={"may_share_model_practice": True})  # fmt: skip
    assert response.status_code == 200 and response.json()["may_share_model_practice"]
    response = w.client.put(f"{V1}/clips/{clip_id}/model", headers=w.auth("coach"), json={})
    assert response.status_code == 200, response.text
    # the mentor's own clip: only they mark it
    response = w.client.put(f"{V1}/clips/{w.ids['clip_model_library']}/model",
                            headers=w.auth("ect_b"), json={})  # fmt: skip
    assert (response.status_code, _code(response)) == (403, "model_not_own_lesson")


def test_groups_are_made_by_mentors_and_admins_and_hold_ects(practice: World) -> None:
    w, ids = practice, practice.ids
    post = w.client.post
    response = post(f"{V1}/ect-groups", headers=w.auth("ect_a"), json={"name": "x"})
    assert (response.status_code, _code(response)) == (403, "group_maker_only")
    response = post(f"{V1}/ect-groups", headers=w.auth("mentor"),
                    json={"name": "Science", "ect_ids": [w.users["mentor_b"]]})  # fmt: skip
    assert (response.status_code, _code(response)) == (422, "group_member_not_ect")
    members = [w.users["ect_a"], w.users["ect_c"]]
    response = post(f"{V1}/ect-groups", headers=w.auth("mentor"),
                    json={"name": "Science", "ect_ids": members})  # fmt: skip
    assert response.status_code == 201, response.text
    assert [m["name"] for m in response.json()["members"]] == ["Ect A", "Ect C"]
    names = {g["name"] for g in _get(w, "mentor", "/ect-groups")}
    assert names == {"Science", "group_g", "group_admin"}
    assert {g["name"] for g in _get(w, "mentor_b", "/ect-groups")} == {"group_admin"}
    assert _get(w, "ect_b", "/ect-groups") == []
    assert _status(w, "mentor_b", "GET", f"/ect-groups/{ids['group_g']}") == 404
    assert _status(w, "mentor_b", "PATCH", f"/ect-groups/{ids['group_admin']}",
                   json={"name": "Mine"}) == 403  # fmt: skip
    assert _status(w, "admin", "DELETE", f"/ect-groups/{ids['group_g']}") == 204
    assert _status(w, "ect_b", "GET", f"/clips/{ids['clip_model_group']}") == 404


def _feed(world: World, who: str) -> list[dict[str, Any]]:
    return [i for i in _get(world, who, "/feed") if i["model_practice"]]


def _share_news(world: World, who: str) -> list[dict[str, Any]]:
    listing = _get(world, who, "/notifications")
    return [i for i in listing["items"] if i["kind"] == "share" and i["key"].startswith("model_")]


def test_a_model_clip_shared_with_an_ect_is_in_their_feed_and_is_news_to_them(
    practice: World,
) -> None:
    """Issue 22 point 8: a model share (to the ECT, or to a group they are in) reaches the home
    feed and the unread counts like any share; one who is reached by no live share gets none."""
    w, ids = practice, practice.ids
    group_clip, paired_clip = ids["clip_model_group"], ids["clip_model_paired"]
    for member in ("ect_b", "ect_c"):
        [item] = _feed(w, member)
        assert item["clip"]["id"] == group_clip
        assert item["share_id"] == ids["share_model_group"]
        assert item["shared_by"]["id"] == w.users["mentor"]
        assert item["clip"]["lesson_title"] == "Mentor's model lesson"
        assert (item["until"], item["deletes_on"]) == (None, None)
        [news] = _share_news(w, member)
        assert (news["href"], news["read"]) == (f"/clips/{group_clip}", False)
        assert news["text"] == "Mentor shared a model clip with you"
        assert news["subject"] == "clip_model_group"
    # ect_a: the clip shared with them directly; the revoked one and the library's are not news
    assert [i["clip"]["id"] for i in _feed(w, "ect_a")] == [paired_clip]
    assert [n["href"] for n in _share_news(w, "ect_a")] == [f"/clips/{paired_clip}"]
    before = _get(w, "ect_a", "/notifications", limit=0)["counts"]["shares"]
    # shared again through a group ect_a is in: still one thing to them, told by the newer share
    response = w.client.post(
        f"{V1}/clips/{paired_clip}/model-shares",
        headers=w.auth("mentor"),
        json={"group_id": ids["group_admin"]},
    )
    assert response.status_code == 201, response.text
    [item] = _feed(w, "ect_a")
    assert (item["clip"]["id"], item["share_id"]) == (paired_clip, response.json()["id"])
    [news] = _share_news(w, "ect_a")
    assert news["key"] == f"model_share:{response.json()['id']}"
    assert _get(w, "ect_a", "/notifications", limit=0)["counts"]["shares"] == before
    # marked read, it stops counting; revoked, it leaves the feed and the list
    unread = _get(w, "ect_b", "/notifications", limit=0)["counts"]["shares"]
    [mine] = _share_news(w, "ect_b")
    response = w.client.post(
        f"{V1}/notifications/read", headers=w.auth("ect_b"), json={"keys": [mine["key"]]}
    )
    assert response.status_code == 200
    assert _share_news(w, "ect_b")[0]["read"] is True
    assert _get(w, "ect_b", "/notifications", limit=0)["counts"]["shares"] == unread - 1
    response = w.client.delete(
        f"{V1}/clips/{group_clip}/model-shares/{ids['share_model_group']}", headers=w.auth("mentor")
    )
    assert response.status_code == 204
    assert _feed(w, "ect_b") == _share_news(w, "ect_b") == []
    # adults are never sent model practice this way, and the mentor's own feed has none of it
    for adult in ("mentor", "mentor_b", "coach", "admin"):
        assert _feed(w, adult) == [] and _share_news(w, adult) == [], adult


def test_comment_counts_count_only_the_comments_the_viewer_reads(practice: World) -> None:
    """ect_b wrote on the group's model clip: ect_c, who also sees the clip, neither reads that
    comment nor is told by a count that it exists; ect_b and the clip's teacher count it."""
    w, ids = practice, practice.ids
    clip = ids["clip_model_group"]

    def counts(who: str) -> tuple[int, int, int]:
        [item] = [i for i in _get(w, who, "/feed") if i["clip"]["id"] == clip] or [{}]
        listed = [c for c in _get(w, who, "/clips") if c["id"] == clip]
        return (
            _get(w, who, f"/clips/{clip}")["comment_count"],
            listed[0]["comment_count"] if listed else -1,
            item.get("comment_count", -1),
        )

    assert counts("ect_b") == (2, 2, 2)
    assert counts("ect_c") == (1, 1, 1)
    # the teacher sees the clip in their lists (not in a feed) and counts both
    assert counts("mentor")[:2] == (2, 2)
    lesson = next(x for x in _get(w, "mentor", "/lessons") if x["id"] == ids["lesson_m"])
    assert lesson["comment_count"] == 2
    # a removed comment is counted by no one
    response = w.client.delete(
        f"{V1}/comments/{ids['comment_model_ect_b']}", headers=w.auth("ect_b")
    )
    assert response.status_code == 204, response.text
    assert counts("ect_b") == (1, 1, 1)


def test_an_ect_outside_the_share_gets_the_stable_not_found_answer(practice: World) -> None:
    """The clip's address answers an ECT it was not shared with exactly as an id that never
    existed: 404 with the code `clip_not_found`, which the review page turns into words."""
    w, ids = practice, practice.ids
    for path in (f"/clips/{ids['clip_model_group']}", "/clips/" + "0" * 32):
        response = w.client.get(f"{V1}{path}", headers=w.auth("ect_a"))
        assert response.status_code == 404
        assert response.json() == {"detail": "clip not found", "code": "clip_not_found"}
    response = w.client.get(
        f"{V1}/clips/{ids['clip_model_group']}/comments", headers=w.auth("ect_a")
    )
    assert (response.status_code, _code(response)) == (404, "clip_not_found")


def test_the_teachers_new_comment_on_a_model_clip_is_news_to_the_ects_it_reaches(
    practice: World,
) -> None:
    """Like a comment on any clip shared with them, written after the share: the group's ECTs
    are told, an ECT outside it is not, and the revoked share takes the news with it."""
    w, ids = practice, practice.ids
    clip = ids["clip_model_group"]
    response = w.client.post(
        f"{V1}/clips/{clip}/comments",
        headers=w.auth("mentor"),
        json={"at": 1.0, "body": "Watch where my eyes go here."},
    )
    assert response.status_code == 201, response.text
    key = f"comment:{response.json()['id']}"

    def told(who: str) -> list[dict[str, Any]]:
        return [i for i in _get(w, who, "/notifications")["items"] if i["key"] == key]

    for member in ("ect_b", "ect_c"):
        [item] = told(member)
        assert item["text"] == "Mentor commented on a clip shared with you"
        assert (item["href"], item["read"]) == (f"/clips/{clip}", False)
    assert told("ect_a") == told("mentor_b") == told("mentor") == []
    response = w.client.delete(
        f"{V1}/clips/{clip}/model-shares/{ids['share_model_group']}", headers=w.auth("mentor")
    )
    assert response.status_code == 204
    assert told("ect_b") == told("ect_c") == []


def test_joining_a_group_is_news_of_its_model_shares_and_leaving_ends_them(
    practice: World,
) -> None:
    """An ECT added to a group after a clip was shared with it is told of the clip from when they
    joined (even having marked everything read before); members who stay keep what they read;
    one who leaves neither sees nor is told of it, and rejoining is news again."""
    w, ids = practice, practice.ids
    clip, group = ids["clip_model_group"], ids["group_g"]
    for ect in ("ect_a", "ect_b"):
        response = w.client.post(f"{V1}/notifications/read-all", headers=w.auth(ect))
        assert response.status_code == 200, response.text

    def set_members(*who: str) -> None:
        response = w.client.put(
            f"{V1}/ect-groups/{group}/members",
            headers=w.auth("mentor"),
            json={"ect_ids": [w.users[e] for e in who]},
        )
        assert response.status_code == 200, response.text

    def news_of_clip(who: str) -> list[dict[str, Any]]:
        return [n for n in _share_news(w, who) if n["href"] == f"/clips/{clip}"]

    def unread_shares(who: str) -> int:
        return int(_get(w, who, "/notifications", limit=0)["counts"]["shares"])

    set_members("ect_b", "ect_c", "ect_a")
    assert clip in {i["clip"]["id"] for i in _feed(w, "ect_a")}
    [news] = news_of_clip("ect_a")
    assert (news["read"], news["text"]) == (False, "Mentor shared a model clip with you")
    assert unread_shares("ect_a") == 1
    # ect_b was a member all along: the same item, still read
    [kept] = news_of_clip("ect_b")
    assert kept["read"] is True and unread_shares("ect_b") == 0
    response = w.client.post(
        f"{V1}/notifications/read", headers=w.auth("ect_a"), json={"keys": [news["key"]]}
    )
    assert response.status_code == 200 and unread_shares("ect_a") == 0
    # left the group: the clip, its media and its news are gone for them
    set_members("ect_b", "ect_c")
    assert clip not in {i["clip"]["id"] for i in _feed(w, "ect_a")}
    assert news_of_clip("ect_a") == []
    assert _status(w, "ect_a", "GET", f"/clips/{clip}") == 404
    assert _status(w, "ect_a", "GET", f"/clips/{clip}/media") == 404
    # added again: news again
    set_members("ect_b", "ect_c", "ect_a")
    [again] = news_of_clip("ect_a")
    assert again["read"] is False and again["key"] != news["key"]
    assert unread_shares("ect_a") == 1
