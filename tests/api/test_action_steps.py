"""Action steps through the API: set, practised with evidence, closed or carried; the rhythm."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from models.audit import AuditEvent
from models.db import session_scope, utcnow
from tests.api.conftest import World

STEPS = "/api/v1/action-steps"


def _soon(days: int = 7) -> str:
    return (utcnow() + timedelta(days=days)).date().isoformat()


def _set(world: World, who: str = "mentor", **json: Any) -> Any:
    body = {
        "ect_id": world.users["ect_a"],
        "instruction": "After each question, wait 3 seconds before taking an answer.",
        "strand_ids": ["ecf-2019:4e"],
        "clip_ids": [world.ids["clip_draft"]],
        "target_date": _soon(),
        **json,
    }
    return world.client.post(STEPS, json=body, headers=world.auth(who))


def test_the_cycle_set_practised_with_evidence_closed(world: World) -> None:
    made = _set(world)
    assert made.status_code == 201, made.text
    step = made.json()
    assert (step["status"], step["set_by"]["name"]) == ("open", "Mentor")
    assert [s["id"] for s in step["strands"]] == ["ecf-2019:4e"]
    # the mentor's unshared clip is not the ECT's to open, but it is a moment of their lesson
    [seen] = world.client.get(f"{STEPS}/{step['id']}", headers=world.auth("ect_a")).json()["clips"]
    assert seen["viewable"] and seen["title"] == ""
    assert seen["href"] == f"/lessons/{world.ids['lesson_a']}?t=1"
    current = world.client.get(STEPS, params={"current": True}, headers=world.auth("ect_a"))
    assert step["id"] in [s["id"] for s in current.json()]

    evidence = world.ids["clip_self"]  # ect_a's own, private until now
    assert (
        world.client.get(f"/api/v1/clips/{evidence}", headers=world.auth("mentor")).status_code
        == 404
    )
    done = world.client.post(
        f"{STEPS}/{step['id']}/practised",
        json={"note": "Waited in period 3; more hands went up.", "evidence_clip_id": evidence},
        headers=world.auth("ect_a"),
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "practised"
    assert done.json()["evidence"]["href"] == f"/clips/{evidence}"
    # attaching it shared it with the mentor, who reviews it
    assert (
        world.client.get(f"/api/v1/clips/{evidence}", headers=world.auth("mentor")).status_code
        == 200
    )
    closed = world.client.post(
        f"{STEPS}/{step['id']}/close", json={"note": "Secure."}, headers=world.auth("mentor")
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    again = world.client.post(
        f"{STEPS}/{step['id']}/practised", json={"note": "x"}, headers=world.auth("ect_a")
    )
    assert again.status_code == 409 and again.json()["code"] == "action_step_not_current"
    with session_scope(world.settings.database_url) as s:
        actions = s.scalars(
            select(AuditEvent.action).where(AuditEvent.object_id == step["id"])
        ).all()
        assert actions == ["action_step.create", "action_step.practised", "action_step.close"]


def test_carried_forward_ends_the_step_and_opens_a_copy(world: World) -> None:
    step = world.ids["step_a"]
    carried = world.client.post(
        f"{STEPS}/{step}/carry", json={"target_date": _soon(14)}, headers=world.auth("mentor")
    )
    assert carried.status_code == 201, carried.text
    fresh = carried.json()
    assert (fresh["status"], fresh["carried_from_id"], fresh["target_date"]) == (
        "open", step, _soon(14),
    )  # fmt: skip
    assert [c["id"] for c in fresh["clips"]] == [world.ids["clip_shared"]]
    old = world.client.get(f"{STEPS}/{step}", headers=world.auth("ect_a")).json()
    assert old["status"] == "carried"


def test_each_refusal_has_its_code(world: World) -> None:
    cases = [
        (_set(world, target_date="2020-01-01"), 422, "target_date_past"),
        (_set(world, strand_ids=["ecf-2019:nope"]), 422, "unknown_strand"),
        # ect_b's lesson: neither the mentor's to name nor ect_a's to see
        (_set(world, clip_ids=[world.ids["clip_b"]]), 422, "action_step_clip_not_allowed"),
        (_set(world, "ect_a"), 403, "action_step_mentor_only"),
        (
            world.client.post(
                f"{STEPS}/{world.ids['step_a']}/practised",
                json={"note": "x", "evidence_clip_id": world.ids["clip_shared"]},
                headers=world.auth("ect_a"),
            ),
            422,
            "evidence_clip_not_allowed",  # the mentor's clip is not the ECT's evidence
        ),
        (
            world.client.post(
                f"{STEPS}/{world.ids['step_a']}/practised",
                json={"note": "x"},
                headers=world.auth("mentor"),
            ),
            403,
            "action_step_ect_only",
        ),
    ]
    for answer, status, code in cases:
        assert (answer.status_code, answer.json().get("code")) == (status, code), answer.text
    assert _set(world, "mentor_b").status_code == 404  # not their ECT: not known to them


def test_the_observation_rhythm_follows_the_induction_start(world: World) -> None:
    url = "/api/v1/observation-schedule"
    unset = world.client.get(url, headers=world.auth("ect_a")).json()
    assert (unset["induction_start"], unset["next_observation_due"]) == (None, None)
    today = utcnow().date()
    for started, year, interval in ((today - timedelta(days=30), 1, 7),
                                    (today - timedelta(days=400), 2, 14)):  # fmt: skip
        answer = world.client.patch(
            f"/api/v1/admin/users/{world.users['ect_a']}",
            json={"induction_start": started.isoformat()},
            headers=world.auth("admin"),
        )
        assert answer.status_code == 200 and answer.json()["induction_start"] == str(started)
        due = world.client.get(
            url, params={"ect_id": world.users["ect_a"]}, headers=world.auth("mentor")
        ).json()
        # step_a was set when the world was made: that was the last observation
        last = due["last_observation"]
        assert (due["induction_year"], due["interval_days"]) == (year, interval)
        assert due["next_observation_due"] == str(
            (utcnow().fromisoformat(last) + timedelta(days=interval)).date()
        )
