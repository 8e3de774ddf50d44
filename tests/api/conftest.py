"""API test fixtures: a small world of accounts, lessons, clips and shares, copied per test.

The world is built once per session through the model functions (fast: no HTTP, no media
processing) into a template folder; each test gets its own copy of that folder (database and
storage), so tests can change anything without seeing each other. Tokens are minted directly.

Processing is replaced by `models.queue.InProcessQueue`, injected as the app's task queue
(`use_queue`): lessons are "processed" either by writing known artefacts (`fake_process`, for
most tests) or by the real worker stage code with a fake transcriber (`process_with_workers`,
for the story test), and clip renders run the real worker task code (`workers.clip_tasks.render`).
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import object_session

from api.deps import get_task_queue
from models import queue, search
from models.account import Role
from models.accounts import create_user, issue_token, pair
from models.coaching import Clip, ClipTag, Comment, RenderStatus, Share, clip_media_key
from models.db import get_engine, reset_engines, session_scope, utcnow
from models.framework import ensure_builtin
from models.lesson import Lesson, LessonStatus
from models.queue import InProcessQueue
from models.settings import Settings, get_settings
from models.storage import open_storage
from pipeline.transcribe import Transcriber
from tests.fakes import always, script_transcript
from tests.mediafactory import ffmpeg, make_video
from tests.services import (
    postgres_url,  # noqa: F401 - search runs on PostgreSQL too
    uvicorn_thread,
)

SECRET = "test-secret-key-that-is-long-enough-for-hs256"
MAX_UPLOAD = 6 * 1024 * 1024
CHUNK_MAX = 1024 * 1024
PASSWORD = "correct horse battery"

WORDS = [
    "Good",
    "morning",
    "everyone.",
    "Today",
    "we",
    "are",
    "looking",
    "at",
    "equivalent",
    "fractions.",
    "Show",
    "me",
    "on",
    "your",
    "whiteboards",
    "what",
    "half",
    "of",
    "eight",
    "is.",
]
LESSON_SECONDS = 6.0


def transcript_for(words: list[str], start: float, end: float) -> dict[str, Any]:
    """A transcript.json with `words` spread evenly over [start, end], one segment per sentence."""
    step = (end - start) / len(words)
    segments: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []
    for i, text in enumerate(words):
        w0 = start + i * step
        current.append({"start": round(w0, 3), "end": round(w0 + step * 0.8, 3), "text": text})
        if text.endswith((".", "?", "!")) or i == len(words) - 1:
            segments.append(
                {
                    "start": current[0]["start"],
                    "end": current[-1]["end"],
                    "text": " ".join(w["text"] for w in current),
                    "words": [{**w, "probability": 0.9} for w in current],
                }
            )
            current = []
    return {"language": "en", "duration": end, "segments": segments}


def vtt_from(transcript: dict[str, Any]) -> str:
    def t(s: float) -> str:
        ms = round(s * 1000)
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"

    cues = [f"{t(s['start'])} --> {t(s['end'])}\n{s['text']}" for s in transcript["segments"]]
    return "WEBVTT\n\n" + "\n\n".join(cues) + "\n"


@dataclass
class Media:
    """Small real files made once per session."""

    video: Path
    poster: Path
    clip: Path


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    folder = tmp_path_factory.mktemp("media")
    video = make_video(folder / "lesson.mp4", duration=LESSON_SECONDS, gop=25).path
    clip = make_video(folder / "clip.mp4", duration=2.0).path
    poster = folder / "poster.jpg"
    ffmpeg("-i", video, "-frames:v", "1", "-q:v", "5", poster)
    return Media(video, poster, clip)


def store_artefacts(settings: Settings, lesson: Lesson, media: Media) -> None:
    """What processing leaves in storage for a ready lesson, with a known transcript."""
    storage = open_storage(settings.storage_url)
    transcript = transcript_for(WORDS, 0.5, LESSON_SECONDS - 0.5)
    storage.put_file(lesson.artefact_key("lesson.mp4"), media.video)
    storage.put_bytes(lesson.artefact_key("transcript.json"), json.dumps(transcript).encode())
    storage.put_bytes(lesson.artefact_key("transcript.vtt"), vtt_from(transcript).encode())
    storage.put_bytes(
        lesson.artefact_key("transcript.srt"), b"1\n00:00:00,500 --> 00:00:02,000\nGood\n"
    )
    storage.put_bytes(lesson.artefact_key("transcript.txt"), " ".join(WORDS).encode())
    segments = [{"start": 0.5, "end": 3.0, "title": "Welcome", "text": " ".join(WORDS[:10])}]
    storage.put_bytes(lesson.artefact_key("segments.json"), json.dumps(segments).encode())
    storage.put_file(lesson.artefact_key("poster.jpg"), media.poster)
    storage.put_file(lesson.artefact_key("sprite.jpg"), media.poster)
    storage.put_bytes(
        lesson.artefact_key("thumbnails.vtt"),
        b"WEBVTT\n\n00:00:00.000 --> 00:00:03.000\nsprite.jpg#xywh=0,0,160,90\n\n"
        b"00:00:03.000 --> 00:00:06.000\nsprite.jpg#xywh=160,0,160,90\n",
    )
    session = object_session(lesson)
    if session is not None:  # processing indexes the transcript for search, so does this
        session.flush()
        search.index_transcript(session, lesson.id, transcript)
    lesson.media_key = lesson.artefact_key("lesson.mp4")
    lesson.status = LessonStatus.ready
    lesson.progress = 100
    lesson.duration = LESSON_SECONDS
    lesson.has_video = lesson.has_audio = True
    lesson.ready_at = utcnow()


def fake_process(settings: Settings, lesson_id: str, media: Media) -> None:
    with session_scope(settings.database_url) as session:
        lesson = session.get(Lesson, lesson_id)
        assert lesson is not None
        store_artefacts(settings, lesson, media)


@dataclass
class World:
    """Ids and tokens of the standard cast, and a client on a fresh app."""

    settings: Settings
    app: FastAPI
    client: TestClient
    users: dict[str, str]
    tokens: dict[str, str]
    ids: dict[str, str]

    def auth(self, who: str) -> dict[str, str]:
        return {} if who == "anonymous" else {"Authorization": f"Bearer {self.tokens[who]}"}

    @property
    def storage(self):  # type: ignore[no-untyped-def]
        return open_storage(self.settings.storage_url)


CAST = {
    "admin": Role.admin,
    "mentor": Role.mentor,
    "mentor_b": Role.mentor,
    "ect_a": Role.ect,
    "ect_b": Role.ect,
    "coach": Role.coach,
}


def _use_data_dir(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Settings:
    monkeypatch.setenv("CLIPCOACH_DATA_DIR", str(data_dir))
    monkeypatch.setenv("CLIPCOACH_SECRET_KEY", SECRET)
    monkeypatch.setenv("CLIPCOACH_SEED_DEMO", "false")
    monkeypatch.setenv("CLIPCOACH_MAX_UPLOAD_BYTES", str(MAX_UPLOAD))
    monkeypatch.setenv("CLIPCOACH_UPLOAD_CHUNK_MAX_BYTES", str(CHUNK_MAX))
    get_settings.cache_clear()
    reset_engines()
    return get_settings()


def _build_world(settings: Settings, media: Media) -> tuple[dict[str, str], dict[str, str]]:
    from models.migrate import upgrade

    upgrade(settings.database_url)
    users: dict[str, str] = {}
    ids: dict[str, str] = {}
    storage = open_storage(settings.storage_url)
    with session_scope(settings.database_url) as s:
        ensure_builtin(s)
        made = {}
        for name, role in CAST.items():
            user, _ = create_user(
                s, f"{name}@school.test", name.replace("_", " ").title(), role, PASSWORD
            )
            made[name] = user
            users[name] = user.id
        ids["pairing"] = pair(s, made["mentor"], made["ect_a"]).id
        pair(s, made["mentor_b"], made["ect_b"])
        for key, owner in (("lesson_a", "ect_a"), ("lesson_b", "ect_b")):
            lesson = Lesson(
                owner_id=users[owner],
                title=f"Lesson of {owner}",
                source_key="",
                source_filename="x.mp4",
                research_use=key == "lesson_a",  # lesson_b's consent excludes research use
            )
            s.add(lesson)
            s.flush()
            lesson.source_key = lesson.artefact_key("source.mp4")
            storage.put_file(lesson.source_key, media.video)
            store_artefacts(settings, lesson, media)
            ids[key] = lesson.id
        now = utcnow()
        clips = {
            "clip_shared": ("lesson_a", "mentor", {"until": now + timedelta(days=7)}),
            "clip_expired": ("lesson_a", "mentor", {"until": now - timedelta(minutes=1)}),
            "clip_revoked": ("lesson_a", "mentor", {"revoked_at": now - timedelta(minutes=1)}),
            "clip_draft": ("lesson_a", "mentor", None),
            "clip_b": ("lesson_b", "mentor_b", {}),
            # ect_a's own reflections: one private, one shared with their mentor
            "clip_self": ("lesson_a", "ect_a", None),
            "clip_self_shared": ("lesson_a", "ect_a", {}),
        }
        for key, (lesson_key, author, share) in clips.items():
            clip = Clip(
                lesson_id=ids[lesson_key], author_id=users[author], title=key, start=1.0, end=3.0
            )
            s.add(clip)
            s.flush()
            clip.media_key = clip_media_key(ids[lesson_key], clip.id, 1.0, 3.0)
            clip.captions_key = clip.media_key.removesuffix(".mp4") + ".vtt"
            storage.put_file(clip.media_key, media.clip)
            storage.put_bytes(
                clip.captions_key, b"WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nmorning everyone\n"
            )
            clip.render_status = RenderStatus.ready
            ids[key] = clip.id
            if share is not None:
                owner = s.get(Lesson, ids[lesson_key]).owner_id  # type: ignore[union-attr, assignment]
                recipient = users["mentor"] if owner == users[author] else owner
                row = Share(
                    clip_id=clip.id, recipient_id=recipient, shared_by=users[author], **share
                )
                s.add(row)
                s.flush()
                ids[f"share_{key}"] = row.id
            comment = Comment(clip_id=clip.id, author_id=users[author], at=0.5, body="Look here")
            s.add(comment)
            s.flush()
            ids[f"comment_{key}"] = comment.id
            s.add(ClipTag(clip_id=clip.id, strand_id="ecf-2019:4e", tagged_by=users[author]))
        lesson_comment = Comment(
            lesson_id=ids["lesson_a"], author_id=users["mentor"], at=2.0, body="Whole lesson"
        )
        s.add(lesson_comment)
        s.flush()
        ids["comment_lesson_a"] = lesson_comment.id
        from models.action_steps import ActionStep, ActionStepClip, ActionStepStrand

        step = ActionStep(
            ect_id=users["ect_a"],
            set_by=users["mentor"],
            instruction="Wait three seconds after each question",
            target_date=(now + timedelta(days=7)).date(),
        )
        s.add(step)
        s.flush()
        s.add(ActionStepStrand(step_id=step.id, strand_id="ecf-2019:4e"))
        s.add(ActionStepClip(step_id=step.id, clip_id=ids["clip_shared"]))
        ids["step_a"] = step.id
        from models.upload import Upload, part_path

        upload = Upload(owner_id=users["ect_a"], filename="half.mp4", size=1000)
        s.add(upload)
        s.flush()
        part_path(settings.data_dir, upload.id).write_bytes(b"")
        ids["upload_a"] = upload.id
    return users, ids


@pytest.fixture(scope="session")
def world_template(
    tmp_path_factory: pytest.TempPathFactory, media: Media
) -> tuple[Path, dict[str, str], dict[str, str]]:
    folder = tmp_path_factory.mktemp("world") / "data"
    with pytest.MonkeyPatch.context() as mp:
        settings = _use_data_dir(mp, folder)
        users, ids = _build_world(settings, media)
        get_engine(settings.database_url).dispose()  # checkpoints the WAL into the file
        reset_engines()
    get_settings.cache_clear()
    return folder, users, ids


def sign_in_all(settings: Settings, users: dict[str, str]) -> dict[str, str]:
    """A bearer token for each of `users` (name -> id), as signing in would give them."""
    from models.account import User

    tokens = {}
    with session_scope(settings.database_url) as s:
        for name, uid in users.items():
            user = s.get(User, uid)
            assert user is not None
            tokens[name] = issue_token(settings, user).token
    return tokens


@pytest.fixture
def world(
    world_template: tuple[Path, dict[str, str], dict[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    template, users, ids = world_template
    data = tmp_path / "data"
    shutil.copytree(template, data)
    settings = _use_data_dir(monkeypatch, data)
    app = app_for(settings)
    tokens = sign_in_all(settings, users)
    try:
        with TestClient(app, raise_server_exceptions=True) as client:
            yield World(settings, app, client, users, tokens, dict(ids))
    finally:
        app.dependency_overrides.clear()
    reset_engines()
    get_settings.cache_clear()


_APPS: dict[str, FastAPI] = {}
PER_REQUEST_SETTINGS = {"data_dir", "database_url", "storage_url", "scratch_dir"}


def app_for(settings: Settings) -> FastAPI:
    """An app for these settings, built once per configuration and shared by the tests.

    Building FastAPI's routes took most of each authorization-matrix case (0.3-1.8 s of CPU, times
    650 cases). Only settings the app reads per request may differ between sharers (routes take
    the database, storage and folders from `get_settings()` per request); the rest is the key.
    What a test may change on it is reset: a fresh sign-in limiter here, and its dependency
    overrides after the test (in `world`)."""
    from api.app import create_app, login_limiter

    key = settings.model_dump_json(exclude=PER_REQUEST_SETTINGS)
    if key not in _APPS:
        _APPS[key] = create_app()
    app = _APPS[key]
    app.state.login_limiter = login_limiter(settings)
    return app


def use_queue(app: FastAPI, tasks: InProcessQueue) -> None:
    """Make `app` send its tasks to `tasks` (undone with `app.dependency_overrides.clear()`,
    which the `world` fixture does at teardown)."""
    app.dependency_overrides[get_task_queue] = lambda: tasks


@pytest.fixture
def inline_queue(
    world: World, media: Media, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InProcessQueue]:
    """Lessons are 'processed' by writing known artefacts; clips render and blanks are written
    into the stored lesson with the real task code."""

    def render(clip_id: str) -> None:
        from workers.clip_tasks import render as render_clip

        render_clip(world.settings, world.storage, clip_id)

    def blank(lesson_id: str) -> None:
        from workers.blank_tasks import apply_blanks

        apply_blanks(world.settings, world.storage, lesson_id, "inline")

    inline = InProcessQueue(
        {
            queue.PROCESS_LESSON: lambda lesson_id: fake_process(world.settings, lesson_id, media),
            queue.RENDER_CLIP: render,
            queue.BLANK_LESSON: blank,
        }
    )
    use_queue(world.app, inline)
    yield inline
    inline.join()
    assert not inline.errors, inline.errors


SAMPLE = Path(__file__).resolve().parents[2] / "sample_media"


def process_with_workers(
    settings: Settings, lesson_id: str, transcriber: Transcriber = script_transcript
) -> None:
    """Every stage of a lesson through the workers' own stage code, one after another, with a
    stand-in transcriber (the sample lesson's script unless told otherwise)."""
    from collections import deque

    from workers import status
    from workers.runner import execute_stage

    storage = open_storage(settings.storage_url)
    pending = deque(status.start_lesson(settings.database_url, lesson_id))
    while pending:
        stage = pending.popleft()
        execute_stage(
            settings,
            storage,
            lesson_id,
            stage,
            lambda _l, nxt: pending.append(nxt),
            always(transcriber),
        )


@pytest.fixture
def worker_queue(settings: Settings, live_server: LiveServer) -> Iterator[InProcessQueue]:
    """The real worker code for lessons (with a fake transcriber) and clips, in threads."""

    def render(clip_id: str) -> None:
        from workers.clip_tasks import render as render_clip

        render_clip(settings, open_storage(settings.storage_url), clip_id)

    inline = InProcessQueue(
        {
            queue.PROCESS_LESSON: lambda lesson_id: process_with_workers(settings, lesson_id),
            queue.RENDER_CLIP: render,
        }
    )
    use_queue(live_server.app, inline)
    yield inline
    inline.join()
    live_server.app.dependency_overrides.clear()
    assert not inline.errors, inline.errors


def get_rendered(
    client: httpx.Client | TestClient, url: str, headers: dict[str, str], tries: int = 200
) -> Any:
    """GET a clip's media or captions, asking again while it is 503 (still rendering), as the
    review page does; the last answer."""
    import time

    for _ in range(tries):
        r = client.get(url, headers=headers)
        if r.status_code != 503 or "still being made" not in r.text:
            return r
        time.sleep(0.05)
    return r


@dataclass
class LiveServer:
    url: str
    host: str
    port: int
    app: FastAPI


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """The app under uvicorn on 127.0.0.1, for real connections (ranges, dropped uploads)."""
    import uvicorn

    from api.app import create_app

    app = create_app()
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    with uvicorn_thread(config) as port:
        yield LiveServer(f"http://127.0.0.1:{port}", "127.0.0.1", port, app)


def asgi_request(
    world: World, method: str, path: str, headers: dict[str, str], chunks: Iterable[bytes]
) -> tuple[int, bytes, int]:
    """Drive the app with a streamed body; returns status, body and how many chunks it read."""
    pulled = 0
    source = iter(chunks)
    response: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        block = next(source, None)
        if block is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += 1
        return {"type": "http.request", "body": block, "more_body": True}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            response["status"] = message["status"]
        elif message["type"] == "http.response.body":
            response["body"] += message.get("body", b"")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "server": ("test", 80),
        "client": ("127.0.0.1", 1234),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    asyncio.run(world.app(scope, receive, send))
    return response["status"], response["body"], pulled


def add_model_practice(world: World, media: Media) -> None:
    """Model practice beside the standard cast: ect_c (an ECT with no mentor) and lesson_m,
    `mentor`'s own lesson. Of lesson_m `mentor` made clip_model_group (model practice shared with
    group_g: ect_b and ect_c; ect_b commented on it, comment_model_ect_b, as did `mentor`,
    comment_model_owner), clip_model_paired (shared with ect_a, share share_model_paired),
    clip_model_revoked (its share with ect_a revoked), clip_model_library (published to the
    school's library) and clip_model_unmarked (not model practice). group_admin, the admin's
    school-wide group, holds ect_a."""
    from models.account import User
    from models.model_practice import EctGroup, EctGroupMember, ModelClip, ModelShare

    storage = world.storage
    with session_scope(world.settings.database_url) as s:
        ect_c, _ = create_user(s, "ect_c@school.test", "Ect C", Role.ect, PASSWORD)
        world.users = {**world.users, "ect_c": ect_c.id}  # the template's dict stays as it is
        lesson = Lesson(
            owner_id=world.users["mentor"],
            title="Mentor's model lesson",
            source_key="",
            source_filename="m.mp4",
        )
        s.add(lesson)
        s.flush()
        lesson.source_key = lesson.artefact_key("source.mp4")
        storage.put_file(lesson.source_key, media.video)
        store_artefacts(world.settings, lesson, media)
        world.ids["lesson_m"] = lesson.id
        groups = {}
        for key, owner, members in (
            ("group_g", "mentor", ("ect_b", "ect_c")),
            ("group_admin", "admin", ("ect_a",)),
        ):
            group = EctGroup(owner_id=world.users[owner], name=key)
            s.add(group)
            s.flush()
            for member in members:
                s.add(EctGroupMember(group_id=group.id, ect_id=world.users[member]))
            groups[key] = world.ids[key] = group.id
        now = utcnow()
        for key, strand in (
            ("clip_model_group", "ecf-2019:4e"),
            ("clip_model_paired", "ecf-2019:4e"),
            ("clip_model_revoked", "ecf-2019:4e"),
            ("clip_model_library", "ecf-2019:2a"),
            ("clip_model_unmarked", "ecf-2019:4e"),
        ):
            clip = Clip(
                lesson_id=lesson.id, author_id=world.users["mentor"], title=key, start=1.0, end=3.0
            )
            s.add(clip)
            s.flush()
            clip.media_key = clip_media_key(lesson.id, clip.id, 1.0, 3.0)
            clip.captions_key = clip.media_key.removesuffix(".mp4") + ".vtt"
            storage.put_file(clip.media_key, media.clip)
            storage.put_bytes(
                clip.captions_key, b"WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nmorning everyone\n"
            )
            clip.render_status = RenderStatus.ready
            s.add(ClipTag(clip_id=clip.id, strand_id=strand, tagged_by=world.users["mentor"]))
            world.ids[key] = clip.id
            if key == "clip_model_unmarked":
                continue
            published = now if key == "clip_model_library" else None
            s.add(ModelClip(clip_id=clip.id, consented_by=world.users["mentor"],
                            published_at=published, note=f"Watch {key}"))  # fmt: skip
            s.flush()
            targets: dict[str, dict[str, Any]] = {
                "clip_model_group": {"group_id": groups["group_g"]},
                "clip_model_paired": {"ect_id": world.users["ect_a"]},
                "clip_model_revoked": {"ect_id": world.users["ect_a"], "revoked_at": now},
            }
            target = targets.get(key)
            if target is not None:
                share = ModelShare(clip_id=clip.id, shared_by=world.users["mentor"], **target)
                s.add(share)
                s.flush()
                world.ids[key.replace("clip_", "share_")] = share.id
        for key, author in (("comment_model_ect_b", "ect_b"), ("comment_model_owner", "mentor")):
            comment = Comment(
                clip_id=world.ids["clip_model_group"],
                author_id=world.users[author],
                at=0.5,
                body=f"Written by {author}",
            )
            s.add(comment)
            s.flush()
            world.ids[key] = comment.id
        s.flush()
        user = s.get(User, ect_c.id)
        assert user is not None
        world.tokens["ect_c"] = issue_token(world.settings, user).token
