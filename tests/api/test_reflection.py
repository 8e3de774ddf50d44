"""Self-reflection: an ECT clips, tags and annotates their own lesson; it stays private to them
until they share it with their mentor, and the mentor sees it only while the share and the
pairing last."""

from __future__ import annotations

from tests.api.conftest import World


def own_clip(world: World) -> str:
    r = world.client.post(
        "/api/v1/clips",
        headers=world.auth("ect_a"),
        json={"lesson_id": world.ids["lesson_a"], "start": 1.0, "end": 3.0, "title": "My wait"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["reflection"] is True
    return str(r.json()["id"])


def test_ect_clips_tags_and_notes_privately_then_shares_with_mentor(world: World) -> None:
    ect, mentor = world.auth("ect_a"), world.auth("mentor")
    clip = own_clip(world)
    url = f"/api/v1/clips/{clip}"
    assert (
        world.client.post(
            f"{url}/tags", headers=ect, json={"strand_ids": ["ecf-2019:2a"]}
        ).status_code
        == 200
    )
    note = {"at": 0.5, "body": "I rushed the answer here"}
    assert world.client.post(f"{url}/comments", headers=ect, json=note).status_code == 201
    assert world.client.patch(url, headers=ect, json={"note": "Try 3 s"}).status_code == 200

    # private: the mentor cannot see it, its comments or its media, nor find it in lists
    for part in ("", "/comments", "/tags", "/media-links"):
        assert world.client.get(url + part, headers=mentor).status_code == 404, part
    listed = world.client.get(f"/api/v1/clips?lesson_id={world.ids['lesson_a']}", headers=mentor)
    assert clip not in {c["id"] for c in listed.json()}

    shared = world.client.post(f"{url}/share-with-mentor", headers=ect, json={})
    assert shared.status_code == 201, shared.text
    assert [s["recipient"]["id"] for s in shared.json()] == [world.users["mentor"]]
    seen = world.client.get(url, headers=mentor).json()
    assert seen["note"] == "Try 3 s" and [t["code"] for t in seen["tags"]] == ["2a"]
    comments = world.client.get(f"{url}/comments", headers=mentor).json()
    assert [c["body"] for c in comments] == ["I rushed the answer here"]
    feed = world.client.get("/api/v1/feed", headers=mentor).json()
    assert feed[0]["clip"]["id"] == clip
    # the mentor replies, but the clip stays the ECT's: no tagging, editing or passing it on
    reply = {"at": 0.5, "body": "Good spot", "parent_id": comments[0]["id"]}
    assert world.client.post(f"{url}/comments", headers=mentor, json=reply).status_code == 201
    assert world.client.patch(url, headers=mentor, json={"title": "x"}).status_code == 403
    assert world.client.post(f"{url}/shares", headers=mentor, json={}).status_code == 403
    # another mentor or ECT never sees it
    for who in ("mentor_b", "ect_b", "coach", "admin"):
        assert world.client.get(url, headers=world.auth(who)).status_code == 404, who

    share_id = shared.json()[0]["id"]
    assert world.client.delete(f"{url}/shares/{share_id}", headers=ect).status_code == 204
    assert world.client.get(url, headers=mentor).status_code == 404


def test_a_shared_reflection_leaves_the_mentor_when_the_pairing_ends(world: World) -> None:
    ect = world.auth("ect_a")
    clip = own_clip(world)
    assert (
        world.client.post(f"/api/v1/clips/{clip}/share-with-mentor", headers=ect, json={})
    ).status_code == 201
    assert (
        world.client.get(f"/api/v1/clips/{clip}", headers=world.auth("mentor")).status_code == 200
    )
    r = world.client.delete(
        f"/api/v1/admin/pairings/{world.ids['pairing']}", headers=world.auth("admin")
    )
    assert r.status_code == 204
    assert (
        world.client.get(f"/api/v1/clips/{clip}", headers=world.auth("mentor")).status_code == 404
    )


def test_an_ect_without_a_mentor_is_told_so(world: World) -> None:
    world.client.delete(
        f"/api/v1/admin/pairings/{world.ids['pairing']}", headers=world.auth("admin")
    )
    clip = own_clip(world)
    r = world.client.post(
        f"/api/v1/clips/{clip}/share-with-mentor", headers=world.auth("ect_a"), json={}
    )
    assert r.status_code == 409
    assert "mentor" in r.json()["detail"]


def test_an_ect_cannot_clip_another_ects_lesson(world: World) -> None:
    r = world.client.post(
        "/api/v1/clips",
        headers=world.auth("ect_b"),
        json={"lesson_id": world.ids["lesson_a"], "start": 1.0, "end": 3.0},
    )
    assert r.status_code == 404
