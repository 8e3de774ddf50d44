"""A real app for the browser tests: uvicorn and a Celery worker as subprocesses, and Chromium.

One server per test module, on 127.0.0.1 at a free port, with its own data dir (SQLite, local
storage, the filesystem broker) and a real worker on that broker, so an upload really goes
through the pipeline. Accounts and the mentor–ECT pairing are made directly in the database
before the server starts, the way an admin's CLI would. Chromium is Debian's (no downloads).

Every page made through `browser_context` records the requests it makes; at the end of the test
each must be to the app's own origin (or a blob:/data: URL the page made itself). The server
keeps its access log on (as `clipcoach serve` does), so tests can see the statuses it answered
and that media tokens in URLs were redacted from it.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    ViewportSize,
    expect,
    sync_playwright,
)

from models.account import Role
from models.accounts import create_user, pair
from models.db import reset_engines, session_scope
from models.migrate import upgrade
from models.settings import Settings
from tests.conftest import REPO

SCREENSHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
PASSWORD = "correct-horse-battery"
START_TIMEOUT = 180.0
"""Seconds for uvicorn and the worker to answer: a shared 2-core machine at load 25-30 took over
60 s just to import the app."""


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    role: Role
    id: str = ""


@dataclass
class LiveApp:
    url: str
    settings: Settings
    people: dict[str, Person]
    server_log: Path
    worker_log: Path
    recordings: Path
    """The one server folder batches may read (CLIPCOACH_BATCH_ALLOWED_DIRS), empty at start."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _seed(settings: Settings) -> dict[str, Person]:
    wanted = {
        "mentor": Person("mentor@school.example", "Morgan Mentor", Role.mentor),
        "ect": Person("ect@school.example", "Eli Early", Role.ect),
        "other_ect": Person("other@school.example", "Olu Other", Role.ect),
        "admin": Person("admin@school.example", "Ada Admin", Role.admin),
    }
    people: dict[str, Person] = {}
    with session_scope(settings.database_url) as session:
        users = {}
        for key, person in wanted.items():
            user, _ = create_user(session, person.email, person.name, person.role, PASSWORD)
            users[key] = user
            people[key] = Person(person.email, person.name, person.role, user.id)
        pair(session, users["mentor"], users["ect"])
    return people


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    data_dir = tmp_path_factory.mktemp("browser-app") / "data"
    data_dir.mkdir()
    recordings = data_dir.parent / "recordings"
    recordings.mkdir()
    env = {
        **os.environ,
        "CLIPCOACH_DATA_DIR": str(data_dir),
        "CLIPCOACH_SECRET_KEY": "browser-test-secret-key-long-enough-for-hs256",
        "CLIPCOACH_SEED_DEMO": "false",
        "CLIPCOACH_DATABASE_URL": "",
        "CLIPCOACH_STORAGE_URL": "",
        "CLIPCOACH_BROKER_URL": "",
        "CLIPCOACH_BATCH_ALLOWED_DIRS": json.dumps([str(recordings)]),
    }
    settings = Settings(data_dir=data_dir, database_url="", storage_url="", broker_url="")
    upgrade(settings.database_url)
    people = _seed(settings)
    reset_engines()

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server_log, worker_log = data_dir / "server.log", data_dir / "worker.log"
    with open(server_log, "wb") as server_out, open(worker_log, "wb") as worker_out:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "info"],
            cwd=REPO, env=env, stdout=server_out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.app", "worker", "--queues",
             "media,transcribe,clips", "--concurrency", "1", "--pool", "prefork", "--loglevel",
             "info",
             "--without-gossip", "--without-mingle"],
            cwd=REPO, env=env, stdout=worker_out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            _wait_until_up(url, server, server_log)
            yield LiveApp(url, settings, people, server_log, worker_log, recordings)
        finally:
            _stop(server)
            _stop(worker)
            reset_engines()


def _wait_until_up(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server exited: {log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"{url}/signin", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the server did not start in {START_TIMEOUT} s: {log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Playwright]:
    """Module-scoped on purpose: Playwright's sync API keeps an asyncio loop marked as running in
    the main thread until it stops, which breaks any later test that calls asyncio.run()."""
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


CLIP_STILL_RENDERING = re.compile(r"status of 503 .*/api/v1/clips/[0-9a-f]+/media\?token=")


@dataclass
class Requests:
    """Every URL any page of the test asked for, and every script error or console error
    (a CSP violation is reported as a console error)."""

    urls: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    expected_errors: list[re.Pattern[str]] = field(default_factory=lambda: [CLIP_STILL_RENDERING])
    """Errors a test causes on purpose (a connection it cuts), and the clip media route's 503
    while a render is under way, which the review page answers by trying again."""

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.expected_errors)]

    def foreign(self, origin: str) -> list[str]:
        return [
            u
            for u in self.urls
            if not (u == origin or u.startswith(origin + "/") or u.startswith(("blob:", "data:")))
        ]


@pytest.fixture
def requests_seen(live_app: LiveApp) -> Iterator[Requests]:
    seen = Requests()
    yield seen
    assert seen.urls, "no requests were recorded"
    foreign = seen.foreign(live_app.url)
    assert not foreign, f"requests to other hosts: {foreign[:10]}"
    errors = seen.unexpected_errors()
    assert not errors, f"errors in the pages: {errors[:10]}"


@pytest.fixture
def browser_context(
    browser: Browser, live_app: LiveApp, requests_seen: Requests
) -> Iterator[Callable[[], BrowserContext]]:
    """Make fresh browser contexts (one per person), each recording its requests."""
    contexts: list[BrowserContext] = []

    def make() -> BrowserContext:
        context = browser.new_context(viewport=DESKTOP, base_url=live_app.url)
        context.set_default_timeout(15_000)
        expect.set_options(timeout=15_000)  # assertions wait as long as actions (loaded CI)
        context.on("request", lambda request: requests_seen.urls.append(request.url))
        context.on("weberror", lambda error: requests_seen.errors.append(str(error.error)))

        def console(message: ConsoleMessage) -> None:
            if message.type == "error":
                requests_seen.errors.append(f"{message.text} at {message.location}")

        context.on("console", console)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


class Shots:
    """Screenshots under artifacts/screenshots/, named after the test and a step."""

    def __init__(self, test_name: str) -> None:
        self.prefix = re.sub(r"[^A-Za-z0-9_-]+", "-", test_name).strip("-")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.taken: list[Path] = []

    def take(self, page: Page, step: str, *, phone: bool = False, full_page: bool = True) -> Path:
        path = SCREENSHOTS / f"{self.prefix}--{step}{'--phone' if phone else ''}.png"
        if phone:
            page.set_viewport_size(PHONE)
        try:
            page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        finally:
            if phone:
                page.set_viewport_size(DESKTOP)
        self.taken.append(path)
        return path


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(request.node.name)


def sign_in(page: Page, person: Person, next_path: str = "/") -> None:
    """Sign in through the page like a person would."""
    page.goto(f"/signin?next={next_path}")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"^(?!.*/signin).*$"))
    page.locator("#who").filter(has_text=person.name).wait_for()


def store_ready_lesson(
    app: LiveApp,
    owner: Person,
    title: str,
    video: Path,
    sentences: list[str],
    work: Path,
    unsure: frozenset[str] = frozenset(),
) -> str:
    """A ready lesson of `owner` with `video` as its media and `sentences` as its transcript
    (words spread over the video; those in `unsure` with a low probability), stored and indexed
    for search as processing would leave it; its id. For pages tests that need a lesson
    without waiting for the pipeline."""
    from models import search
    from models.lesson import Lesson, LessonStatus
    from models.storage import open_storage
    from pipeline.captions import write_transcript_files
    from pipeline.transcript import Segment, Transcript, Word
    from tests.mediafactory import ffmpeg, ffprobe_json

    duration = float(json.loads(ffprobe_json(video, "-show_format"))["format"]["duration"])
    words_per_sentence = [s.split() for s in sentences]
    step = (duration - 1.0) / max(1, sum(map(len, words_per_sentence)))
    segments, t = [], 0.5
    for words in words_per_sentence:
        timed = []
        for text in words:
            probability = 0.3 if text in unsure else 0.95
            timed.append(Word(round(t, 3), round(t + step * 0.8, 3), " " + text, probability))
            t += step
        segments.append(Segment(timed[0].start, timed[-1].end, " ".join(words), tuple(timed)))
    transcript = Transcript("en", duration, tuple(segments))
    work.mkdir(parents=True, exist_ok=True)
    files = write_transcript_files(transcript, work)
    poster = work / "poster.jpg"
    ffmpeg("-i", video, "-frames:v", "1", "-q:v", "5", poster)
    storage = open_storage(app.settings.storage_url)
    with session_scope(app.settings.database_url) as session:
        lesson = Lesson(owner_id=owner.id, title=title, source_key="", source_filename=video.name)
        session.add(lesson)
        session.flush()
        lesson.source_key = lesson.artefact_key("source.mp4")
        storage.put_file(lesson.source_key, video)
        storage.put_file(lesson.artefact_key("lesson.mp4"), video)
        for fmt, path in files.items():
            storage.put_file(lesson.artefact_key(f"transcript.{fmt}"), path)
        storage.put_file(lesson.artefact_key("poster.jpg"), poster)
        segments_json = [
            {"start": s.start, "end": s.end, "title": s.text[:40], "text": s.text} for s in segments
        ]
        storage.put_bytes(lesson.artefact_key("segments.json"), json.dumps(segments_json).encode())
        search.index_transcript(session, lesson.id, transcript.to_dict())
        lesson.media_key = lesson.artefact_key("lesson.mp4")
        lesson.status = LessonStatus.ready
        lesson.progress = 100
        lesson.duration = duration
        lesson.has_video = lesson.has_audio = True
        lesson.ready_at = lesson.created_at
        return lesson.id
