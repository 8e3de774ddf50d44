"""The whole coaching story over real HTTP (uvicorn on 127.0.0.1), as a generated client would
drive it: accounts and pairing, a resumed chunked upload, processing by the workers' own stage
code (fake transcriber), a clip from transcript words, tags, comments, sharing, the ECT's review
with a range request and shifted captions, a reply, and revocation.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from models.account import Role
from models.accounts import create_user
from models.db import session_scope
from models.queue import InProcessQueue
from models.settings import Settings
from tests.api.conftest import SAMPLE, LiveServer, get_rendered

CHUNK = 512 * 1024
PASSWORD = "a long enough password"


def sign_in(http: httpx.Client, email: str, password: str) -> dict[str, str]:
    response = http.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def send_partial_chunk(
    server: LiveServer, path: str, headers: dict[str, str], offset: int, data: bytes, sent: int
) -> None:
    """A PATCH whose connection drops after `sent` of the chunk's bytes (a train going into a
    tunnel): the request line and headers promise the whole chunk, then the socket closes."""
    head = [
        f"PATCH {path} HTTP/1.1",
        f"Host: {server.host}:{server.port}",
        f"Upload-Offset: {offset}",
        f"Content-Length: {len(data)}",
        "Content-Type: application/offset+octet-stream",
        *(f"{k}: {v}" for k, v in headers.items()),
        "",
        "",
    ]
    with socket.create_connection((server.host, server.port)) as sock:
        sock.sendall("\r\n".join(head).encode() + data[:sent])
        time.sleep(0.5)  # let the server read what arrived before the line drops


def wait_until(predicate, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.25)


def vtt_times(vtt: str) -> list[float]:
    times = []
    for h, m, s in re.findall(r"(\d+):(\d\d):(\d\d\.\d+)", vtt):
        times.append(int(h) * 3600 + int(m) * 60 + float(s))
    return times


def test_the_coaching_story(
    settings: Settings, live_server: LiveServer, worker_queue: InProcessQueue, tmp_path: Path
) -> None:
    sample = SAMPLE / "lesson.mp4"
    data = sample.read_bytes()
    with session_scope(settings.database_url) as session:
        create_user(session, "lead@school.test", "Induction Lead", Role.admin, PASSWORD)
    with httpx.Client(base_url=live_server.url, timeout=60) as http:
        _story(settings, live_server, http, data, tmp_path)


def _story(
    settings: Settings, live_server: LiveServer, http: httpx.Client, data: bytes, tmp_path: Path
) -> None:
    # accounts, through the admin API
    admin = sign_in(http, "lead@school.test", PASSWORD)
    people = {}
    for email, role in (("mentor@school.test", "mentor"), ("ect@school.test", "ect")):
        r = http.post(
            "/api/v1/admin/users",
            headers=admin,
            json={"email": email, "name": role.upper(), "role": role},
        )
        assert r.status_code == 201, r.text
        people[role] = r.json()
    pairing = {"mentor_id": people["mentor"]["id"], "ect_id": people["ect"]["id"]}
    r = http.post("/api/v1/admin/pairings", headers=admin, json=pairing)
    assert r.status_code == 201, r.text
    mentor = sign_in(http, "mentor@school.test", people["mentor"]["password"])
    ect = sign_in(http, "ect@school.test", people["ect"]["password"])
    me = http.get("/api/v1/auth/me", headers=mentor).json()
    assert [p["id"] for p in me["paired_with"]] == [people["ect"]["id"]]

    # the ECT uploads in chunks; the connection drops mid-chunk; HEAD says where to resume
    r = http.post(
        "/api/v1/uploads",
        headers=ect,
        json={
            "filename": "Year 7 — fractions ü.mp4",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
    )
    assert r.status_code == 201, r.text
    upload = r.json()
    path = f"/api/v1/uploads/{upload['id']}"
    r = http.patch(path, headers={**ect, "Upload-Offset": "0"}, content=data[:CHUNK])
    assert r.status_code == 200, r.text
    assert r.json()["offset"] == CHUNK
    send_partial_chunk(live_server, path, ect, CHUNK, data[CHUNK : 2 * CHUNK], sent=200_000)

    def current_offset() -> int:
        return int(http.head(path, headers=ect).headers["Upload-Offset"])

    offset = wait_until(lambda: (n := current_offset()) > CHUNK and n, 10, "the partial chunk")
    assert CHUNK < offset <= CHUNK + 200_000, "the bytes that arrived before the drop are kept"
    r = http.patch(path, headers={**ect, "Upload-Offset": "0"}, content=data[:CHUNK])
    assert r.status_code == 409
    assert str(offset) in r.json()["detail"]
    while offset < len(data):
        r = http.patch(
            path,
            headers={**ect, "Upload-Offset": str(offset)},
            content=data[offset : offset + CHUNK],
        )
        assert r.status_code == 200, r.text
        offset = r.json()["offset"]
    assert r.json()["complete"] is True

    # the lesson is made from the upload and processed by the workers' stage code
    r = http.post("/api/v1/lessons", headers=ect, json={"upload_id": upload["id"], "title": ""})
    assert r.status_code == 201, r.text
    lesson_id = r.json()["id"]
    assert r.headers["location"] == f"/api/v1/lessons/{lesson_id}"
    assert r.json()["source_filename"] == "Year 7 — fractions ü.mp4"
    lesson = wait_until(
        lambda: (
            (d := http.get(f"/api/v1/lessons/{lesson_id}", headers=ect).json())["status"]
            in ("ready", "failed")
            and d
        ),
        240,
        "processing",
    )
    assert lesson["status"] == "ready", lesson
    assert lesson["progress"] == 100
    assert lesson["has_video"] and lesson["has_audio"]
    assert abs(lesson["duration"] - 162.3) < 1.0
    assert http.head(path, headers=ect).status_code == 404, "a used upload is gone"

    # the mentor picks words from the transcript and clips them
    assert [x["id"] for x in http.get("/api/v1/lessons", headers=mentor).json()] == [lesson_id]
    transcript = http.get(f"/api/v1/lessons/{lesson_id}/transcript", headers=mentor).json()
    words = [w for s in transcript["segments"] for w in s["words"]]
    first = next(i for i, w in enumerate(words) if w["text"].startswith("pizza"))
    last = first + 12
    r = http.post(
        "/api/v1/clips",
        headers=mentor,
        json={
            "lesson_id": lesson_id,
            "word_start": first,
            "word_end": last,
            "title": "Starter question",
            "note": "Notice the wait time.",
        },
    )
    assert r.status_code == 201, r.text
    clip = r.json()
    assert clip["start"] == words[first]["start"]
    assert clip["end"] == words[last]["end"]

    frameworks = http.get("/api/v1/frameworks", headers=mentor).json()
    assert {f["id"] for f in frameworks} >= {"ecf-2019", "ittecf-2024"}
    found = http.get(
        "/api/v1/frameworks/ecf-2019/strands",
        headers=mentor,
        params={"q": "questions", "kind": "learn_how"},
    ).json()
    strands = [found[0]["id"], "ecf-2019:2a"]
    tags_url = f"/api/v1/clips/{clip['id']}/tags"
    r = http.post(tags_url, headers=mentor, json={"strand_ids": strands})
    assert r.status_code == 200, r.text
    assert sorted(t["strand_id"] for t in r.json()) == sorted(strands)
    feedback = {"at": 2.0, "kind": "strength", "body": "Clear question, then a pause."}
    r = http.post(f"/api/v1/clips/{clip['id']}/comments", headers=mentor, json=feedback)
    assert r.status_code == 201, r.text
    comment = r.json()
    until = (datetime.now(UTC) + timedelta(days=14)).isoformat()
    r = http.post(f"/api/v1/clips/{clip['id']}/shares", headers=mentor, json={"until": until})
    assert r.status_code == 201, r.text
    share = r.json()
    assert share["recipient"]["id"] == people["ect"]["id"]
    assert share["active"] is True

    # the ECT reviews: feed, the clip streamed with a range request, shifted captions, a reply
    feed = http.get("/api/v1/feed", headers=ect).json()
    assert [item["clip"]["id"] for item in feed] == [clip["id"]]
    assert len(feed[0]["tags"]) == 2
    assert feed[0]["comment_count"] == 1
    r = get_rendered(http, f"/api/v1/clips/{clip['id']}/media", {**ect, "Range": "bytes=0-1023"})
    assert r.status_code == 206, r.text
    assert len(r.content) == 1024
    total = int(r.headers["content-range"].split("/")[1])
    assert r.headers["content-range"] == f"bytes 0-1023/{total}"
    r = http.get(f"/api/v1/clips/{clip['id']}/media", headers={**ect, "Range": "bytes=1024-"})
    assert r.status_code == 206
    rendered = tmp_path / "clip.mp4"
    rendered.write_bytes(http.get(f"/api/v1/clips/{clip['id']}/media", headers=ect).content)
    probed = json.loads(
        subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", rendered],
            capture_output=True,
            check=True,
        ).stdout
    )
    assert abs(float(probed["format"]["duration"]) - (clip["end"] - clip["start"])) < 0.15

    r = http.get(f"/api/v1/clips/{clip['id']}/captions.vtt", headers=ect)
    assert r.status_code == 200, r.text
    assert r.text.startswith("WEBVTT")
    assert "pizza" in r.text
    times = vtt_times(r.text)
    assert times[0] < 0.5, "captions start at the clip's start"
    assert max(times) <= clip["end"] - clip["start"] + 0.01

    r = http.post(
        f"/api/v1/clips/{clip['id']}/comments",
        headers=ect,
        json={
            "at": 2.0,
            "kind": "note",
            "body": "I waited longer than usual.",
            "parent_id": comment["id"],
        },
    )
    assert r.status_code == 201, r.text
    thread = http.get(f"/api/v1/clips/{clip['id']}/comments", headers=mentor).json()
    assert [c["id"] for c in thread] == [comment["id"]]
    assert [reply["body"] for reply in thread[0]["replies"]] == ["I waited longer than usual."]

    # revoking removes it from the feed and from the ECT's reach
    r = http.delete(f"/api/v1/clips/{clip['id']}/shares/{share['id']}", headers=mentor)
    assert r.status_code == 204
    assert http.get("/api/v1/feed", headers=ect).json() == []
    assert http.get(f"/api/v1/clips/{clip['id']}", headers=ect).status_code == 404
    assert http.get(f"/api/v1/clips/{clip['id']}/media", headers=ect).status_code == 404

    # and the audit log saw it all
    actions = [e["action"] for e in http.get("/api/v1/admin/audit", headers=admin).json()]
    for action in (
        "lesson.create",
        "lesson.transcript",
        "clip.create",
        "share.create",
        "clip.download",
        "clip.captions",
        "share.revoke",
        "auth.sign_in",
    ):
        assert action in actions, action
    assert http.post("/api/v1/auth/logout", headers=ect).status_code == 204
    assert http.get("/api/v1/auth/me", headers=ect).status_code == 401
