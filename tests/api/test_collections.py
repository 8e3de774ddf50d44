"""Collections: a mentor bundles clips and shares them with their ECT at once, with exactly the
access of sharing each clip (consent, revocation, retention, notifications), audited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from models.account import User
from models.accounts import pair
from models.audit import AuditEvent
from models.coaching import Share
from models.db import session_scope, utcnow
from models.queue import InProcessQueue
from models.retention import enforce, school_policy
from models.settings import get_settings
from tests.api.conftest import World, get_rendered

V1 = "/api/v1"


def _make(world: World, *keys: str, who: str = "mentor", title: str = "Wait time") -> Any:
    clip_ids = [world.ids[k] for k in keys]
    return world.client.post(
        f"{V1}/collections",
        json={"title": title, "note": "Three moments", "clip_ids": clip_ids},
        headers=world.auth(who),
    )


def _share(world: World, collection_id: str, ect: str = "ect_a", **extra: str) -> Any:
    return world.client.post(
        f"{V1}/collections/{collection_id}/shares",
        json={"ect_id": world.users[ect], **extra},
        headers=world.auth("mentor"),
    )


def _status(world: World, who: str, path: str) -> int:
    return world.client.get(f"{V1}{path}", headers=world.auth(who)).status_code


def _actions(world: World) -> list[str]:
    with session_scope(world.settings.database_url) as s:
        return [
            e.action
            for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))
            if e.action.startswith("collection.")
        ]


def test_a_shared_collection_gives_its_ect_its_clips_in_order_and_no_one_else(
    world: World,
) -> None:
    made = _make(world, "clip_draft", "clip_shared")
    assert made.status_code == 201, made.text
    collection = made.json()
    cid = collection["id"]
    assert [c["id"] for c in collection["clips"]] == [
        world.ids["clip_draft"],
        world.ids["clip_shared"],
    ]
    # the mentor's working note until shared
    assert _status(world, "ect_a", f"/collections/{cid}") == 404
    assert _status(world, "ect_a", f"/clips/{world.ids['clip_draft']}") == 404

    shared = _share(world, cid)
    assert shared.status_code == 201, shared.text
    assert [s["recipient"]["id"] for s in shared.json()["shared_with"]] == [world.users["ect_a"]]

    seen = world.client.get(f"{V1}/collections/{cid}", headers=world.auth("ect_a")).json()
    assert seen["title"] == "Wait time"
    assert [c["id"] for c in seen["clips"]] == [world.ids["clip_draft"], world.ids["clip_shared"]]
    assert seen["shared_with"] == []  # who else it went to is the mentor's business
    assert _status(world, "ect_a", f"/clips/{world.ids['clip_draft']}/comments") == 200
    listed = world.client.get(f"{V1}/collections", headers=world.auth("ect_a")).json()
    assert [c["id"] for c in listed] == [cid]

    for other in ("ect_b", "mentor_b", "coach", "admin"):
        assert _status(world, other, f"/collections/{cid}") == 404, other
        assert world.client.get(f"{V1}/collections", headers=world.auth(other)).json() == []
    assert _status(world, "ect_b", f"/clips/{world.ids['clip_draft']}") == 404
    assert _actions(world) == ["collection.create", "collection.share", "collection.view"]
    with session_scope(world.settings.database_url) as s:
        shares = s.scalars(select(Share).where(Share.collection_id == cid)).all()
        assert {sh.clip_id for sh in shares} == {world.ids["clip_draft"], world.ids["clip_shared"]}
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "share.create")).all()
        assert {e.detail["collection_id"] for e in events} == {cid}


def test_revoking_ends_the_ects_access_at_once_but_not_a_clip_shared_on_its_own(
    world: World,
) -> None:
    cid = _make(world, "clip_draft", "clip_shared").json()["id"]
    _share(world, cid)
    url = f"{V1}/collections/{cid}/shares/{world.users['ect_a']}"
    assert world.client.delete(url, headers=world.auth("ect_a")).status_code == 403
    assert world.client.delete(url, headers=world.auth("mentor")).status_code == 204
    assert _status(world, "ect_a", f"/collections/{cid}") == 404
    assert _status(world, "ect_a", f"/clips/{world.ids['clip_draft']}") == 404
    assert _status(world, "ect_a", f"/clips/{world.ids['clip_shared']}") == 200  # its own share
    again = world.client.delete(url, headers=world.auth("mentor"))
    assert again.status_code == 404
    assert again.json()["code"] == "collection_not_shared"
    assert _actions(world)[-1] == "collection.revoke"


def test_only_clips_the_mentor_may_share_go_in_and_only_a_mentor_makes_one(world: World) -> None:
    refused = _make(world, "clip_self_shared")  # ect_a's own reflection, shared with the mentor
    assert refused.status_code == 403
    assert _make(world, "clip_b").status_code == 404  # mentor_b's clip of ect_b's lesson
    by_ect = _make(world, "clip_self", who="ect_a")
    assert by_ect.status_code == 403
    assert by_ect.json()["code"] == "collection_mentor_only"
    twice = _make(world, "clip_draft", "clip_draft")
    assert twice.status_code == 422
    assert twice.json()["code"] == "collection_clip_twice"
    cid = _make(world, "clip_draft").json()["id"]
    unpaired = _share(world, cid, ect="ect_b")
    assert unpaired.status_code == 409
    assert unpaired.json()["code"] == "collection_not_paired"
    empty = _make(world).json()["id"]
    assert _share(world, empty).json()["code"] == "collection_empty"


def test_a_share_the_consent_does_not_allow_is_refused_and_nothing_is_shared(
    world: World,
) -> None:
    cid = _make(world, "clip_draft", "clip_expired").json()["id"]
    consent = world.client.put(
        f"{V1}/lessons/{world.ids['lesson_a']}/consent",
        json={"consent": "not_shared"},
        headers=world.auth("ect_a"),
    )
    assert consent.status_code == 200
    refused = _share(world, cid)
    assert refused.status_code == 409
    assert "[consent_not_shared]" in refused.json()["detail"]
    with session_scope(world.settings.database_url) as s:
        assert s.scalars(select(Share).where(Share.collection_id == cid)).all() == []
    assert _status(world, "ect_a", f"/collections/{cid}") == 404


def test_reordering_adding_and_removing_follow_the_share(world: World) -> None:
    cid = _make(world, "clip_draft", "clip_expired").json()["id"]
    _share(world, cid)
    items = f"{V1}/collections/{cid}/items"
    reordered = world.client.put(
        items,
        json={"clip_ids": [world.ids["clip_expired"], world.ids["clip_draft"]]},
        headers=world.auth("mentor"),
    )
    assert reordered.status_code == 200
    seen = world.client.get(f"{V1}/collections/{cid}", headers=world.auth("ect_a")).json()
    assert [c["id"] for c in seen["clips"]] == [world.ids["clip_expired"], world.ids["clip_draft"]]
    # clip_draft out, clip_revoked in: the ECT loses one and gains the other
    changed = world.client.put(
        items,
        json={"clip_ids": [world.ids["clip_revoked"], world.ids["clip_expired"]]},
        headers=world.auth("mentor"),
    )
    assert changed.status_code == 200
    assert _status(world, "ect_a", f"/clips/{world.ids['clip_draft']}") == 404
    assert _status(world, "ect_a", f"/clips/{world.ids['clip_revoked']}") == 200
    seen = world.client.get(f"{V1}/collections/{cid}", headers=world.auth("ect_a")).json()
    assert [c["id"] for c in seen["clips"]] == [
        world.ids["clip_revoked"],
        world.ids["clip_expired"],
    ]
    by_ect = world.client.put(items, json={"clip_ids": []}, headers=world.auth("ect_a"))
    assert by_ect.status_code == 403
    assert by_ect.json()["code"] == "collection_owner_only"


def test_deleting_a_collection_revokes_its_shares(world: World) -> None:
    cid = _make(world, "clip_draft").json()["id"]
    _share(world, cid)
    assert (
        world.client.delete(f"{V1}/collections/{cid}", headers=world.auth("ect_a")).status_code
        == 403
    )
    assert (
        world.client.delete(f"{V1}/collections/{cid}", headers=world.auth("mentor")).status_code
        == 204
    )
    assert _status(world, "ect_a", f"/clips/{world.ids['clip_draft']}") == 404
    assert _status(world, "mentor", f"/collections/{cid}") == 404
    assert _actions(world)[-1] == "collection.delete"
    with session_scope(world.settings.database_url) as s:
        share = s.scalars(select(Share).where(Share.clip_id == world.ids["clip_draft"])).one()
        assert share.revoked_at is not None and share.collection_id is None


def test_the_ect_is_told_once_of_a_shared_collection(world: World) -> None:
    cid = _make(world, "clip_draft", "clip_expired", title="Wait time").json()["id"]
    _share(world, cid)
    items = world.client.get(f"{V1}/notifications", headers=world.auth("ect_a")).json()["items"]
    told = [i for i in items if i["href"] == f"/collections/{cid}"]
    assert [(i["kind"], i["text"], i["subject"]) for i in told] == [
        ("share", "Mentor shared a collection with you", "Wait time")
    ]
    ect_b = world.client.get(f"{V1}/notifications", headers=world.auth("ect_b")).text
    assert cid not in ect_b


def test_the_share_period_ends_a_collection_as_it_ends_a_clip_share(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = _make(world, "clip_draft").json()["id"]
    _share(world, cid)
    with session_scope(world.settings.database_url) as s:
        s.execute(
            update(Share)
            .where(Share.collection_id == cid)
            .values(created_at=utcnow() - timedelta(days=31))
        )
    monkeypatch.setenv("CLIPCOACH_RETENTION_SHARE_DAYS", "30")
    get_settings.cache_clear()
    done = enforce(world.settings.database_url, world.storage, school_policy())
    assert len(done.shares) >= 1
    assert _status(world, "ect_a", f"/collections/{cid}") == 404
    assert _status(world, "ect_a", f"/clips/{world.ids['clip_draft']}") == 404
    assert _status(world, "mentor", f"/collections/{cid}") == 200


def test_a_clip_shared_on_its_own_after_the_collection_outlives_the_collection(
    world: World,
) -> None:
    cid = _make(world, "clip_draft").json()["id"]
    _share(world, cid)
    alone = world.client.post(
        f"{V1}/clips/{world.ids['clip_draft']}/shares", json={}, headers=world.auth("mentor")
    )
    assert alone.status_code == 201
    url = f"{V1}/collections/{cid}/shares/{world.users['ect_a']}"
    assert world.client.delete(url, headers=world.auth("mentor")).status_code == 204
    assert _status(world, "ect_a", f"/collections/{cid}") == 404
    assert _status(world, "ect_a", f"/clips/{world.ids['clip_draft']}") == 200


def test_the_ect_plays_the_collections_clips_as_shared_clips(
    world: World, inline_queue: InProcessQueue
) -> None:
    cid = _make(world, "clip_draft").json()["id"]
    url = f"{V1}/clips/{world.ids['clip_draft']}/media"
    assert world.client.get(url, headers=world.auth("ect_a")).status_code == 404
    shared = world.client.post(
        f"{V1}/collections/{cid}/shares", json={}, headers=world.auth("mentor")
    )  # no ECT named: the one whose lessons the clips are of
    assert shared.status_code == 201
    assert get_rendered(world.client, url, world.auth("ect_a")).status_code == 200
    assert world.client.get(url, headers=world.auth("ect_b")).status_code == 404


def test_a_collection_goes_only_to_the_ect_whose_lessons_its_clips_are_of(world: World) -> None:
    with session_scope(world.settings.database_url) as s:
        mentor, ect_b = s.get(User, world.users["mentor"]), s.get(User, world.users["ect_b"])
        assert mentor is not None and ect_b is not None
        pair(s, mentor, ect_b)  # the mentor now coaches both, and sees clip_b
    cid = _make(world, "clip_draft", "clip_b").json()["id"]
    for ect in ("ect_a", "ect_b"):
        refused = _share(world, cid, ect=ect)
        assert refused.status_code == 409
        assert refused.json()["code"] == "collection_other_ect"
    with session_scope(world.settings.database_url) as s:
        assert s.scalars(select(Share).where(Share.collection_id == cid)).all() == []


def test_a_clip_added_later_is_shared_until_the_same_date(world: World) -> None:
    cid = _make(world, "clip_draft").json()["id"]
    until = (utcnow() + timedelta(days=3)).isoformat()
    assert _share(world, cid, until=until).status_code == 201
    added = world.client.put(
        f"{V1}/collections/{cid}/items",
        json={"clip_ids": [world.ids["clip_draft"], world.ids["clip_expired"]]},
        headers=world.auth("mentor"),
    )
    assert added.status_code == 200
    with session_scope(world.settings.database_url) as s:
        ends = {sh.until for sh in s.scalars(select(Share).where(Share.collection_id == cid))}
    assert len(ends) == 1 and None not in ends
