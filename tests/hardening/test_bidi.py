"""Bidirectional control characters never reach a reader: stripped from names, titles, file
names, notes and comments on the way in and on the way out (issue 21, point 14)."""

from __future__ import annotations

from models.db import session_scope
from models.lesson import Lesson
from models.text import BIDI_CONTROLS
from tests.api.conftest import World

SPOOF = "\u202egnp.exe"
CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_bidi_controls_are_stripped_in_and_out(world: World) -> None:
    mentor, clip = world.auth("mentor"), world.ids["clip_shared"]
    r = world.client.patch(
        f"/api/v1/clips/{clip}", headers=mentor, json={"title": SPOOF, "note": f"a{CONTROLS}b"}
    )
    assert r.status_code == 200
    assert r.json()["title"] == "gnp.exe" and r.json()["note"] == "ab"
    r = world.client.post(
        f"/api/v1/clips/{clip}/comments", headers=mentor, json={"body": f"see {SPOOF}"}
    )
    assert r.status_code == 201 and r.json()["body"] == "see gnp.exe"
    r = world.client.post(
        "/api/v1/admin/users",
        headers=world.auth("admin"),
        json={"email": "spoof@school.test", "name": f"Ann{CONTROLS} Lee", "role": "ect"},
    )
    assert r.status_code == 201 and r.json()["name"] == "Ann Lee"
    r = world.client.post(
        "/api/v1/uploads", headers=world.auth("ect_a"), json={"filename": SPOOF, "size": 10}
    )
    assert r.status_code == 201 and r.json()["filename"] == "gnp.exe"

    # a row stored before the rule still goes out clean
    with session_scope(world.settings.database_url) as s:
        lesson = s.get(Lesson, world.ids["lesson_a"])
        assert lesson is not None
        lesson.title = SPOOF
        lesson.source_filename = SPOOF + ".mp4"
    r = world.client.get(f"/api/v1/lessons/{world.ids['lesson_a']}", headers=world.auth("ect_a"))
    assert r.json()["title"] == "gnp.exe" and r.json()["source_filename"] == "gnp.exe.mp4"

    # everything the ECT and the mentor read back
    for who, path in (
        ("ect_a", "/api/v1/feed"),
        ("ect_a", "/api/v1/lessons"),
        ("mentor", f"/api/v1/clips/{clip}"),
        ("mentor", f"/api/v1/clips/{clip}/comments"),
        ("admin", "/api/v1/admin/users"),
    ):
        r = world.client.get(path, headers=world.auth(who))
        assert r.status_code == 200, path
        assert not BIDI_CONTROLS.search(r.content.decode("utf-8")), path
        assert "\\u202e" not in r.text.lower(), path
