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
