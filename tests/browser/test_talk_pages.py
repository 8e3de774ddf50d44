"""Talk in this lesson, in the studio, and in a shared clip, on the ECT's review page: speech over
time with teacher and pupils apart, each question a mark that seeks the video, and every figure
with its meaning, how sure the split is and the note that they are evidence for a conversation,
never a score. Both pages draw them with the same talk.js."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest
from playwright.sync_api import expect

from tests import mediafactory
from tests.browser.conftest import (
    PASSWORD,
    LiveApp,
    Requests,
    Shots,
    sign_in,
    store_ready_lesson,
)

pytestmark = pytest.mark.browser

SENTENCES = [
    "Good morning everyone, pens down and eyes on me.",
    "Why do you think a half of eight is four?",
    "Because eight shared by two is four.",
    "Lovely reasoning, now talk to your partner.",
]


@pytest.fixture(scope="module")
def lesson_id(live_app: LiveApp, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A ready lesson whose analytics.json was stored with speaker turns, as processing does."""
    from dataclasses import asdict

    from models.db import session_scope
    from models.lesson import Lesson
    from models.storage import open_storage
    from pipeline.analytics import Turn, analyse
    from pipeline.transcript import Transcript

    work = tmp_path_factory.mktemp("talk-lesson")
    video = mediafactory.make_video(work / "lesson.mp4", duration=12.0, gop=25).path
    lesson_id = store_ready_lesson(
        live_app, live_app.people["ect"], "Y7 halves", video, SENTENCES, work / "out"
    )
    storage = open_storage(live_app.settings.storage_url)
    with session_scope(live_app.settings.database_url) as session:
        lesson = session.get(Lesson, lesson_id)
        assert lesson is not None
        doc = json.loads(storage.get_bytes(lesson.artefact_key("transcript.json")))
        transcript = Transcript.from_dict(doc)
        pupil = transcript.segments[2]
        turns = [
            Turn(0.0, pupil.start - 0.01, "teacher"),
            Turn(pupil.start - 0.01, pupil.end + 0.01, "pupil"),
            Turn(pupil.end + 0.01, 12.0, "teacher"),
        ]
        result = analyse(transcript, turns=turns)
        storage.put_bytes(
            lesson.artefact_key("analytics.json"), json.dumps(result.to_dict()).encode()
        )
        split = {"turns": [{**asdict(t), "confidence": 0.9} for t in turns], "confidence": 0.9}
        storage.put_bytes(lesson.artefact_key("speakers.json"), json.dumps(split).encode())
    return lesson_id


def test_the_talk_timeline_and_a_question_that_seeks_the_video(
    live_app: LiveApp, lesson_id: str, browser_context, requests_seen: Requests, shots: Shots
) -> None:  # type: ignore[no-untyped-def]
    page = browser_context().new_page()
    sign_in(page, live_app.people["mentor"], f"/lessons/{lesson_id}")
    card, strip = page.locator("#talk-card"), page.locator("#talk-strip")
    expect(card).to_be_visible()
    expect(card).to_contain_text("never a score")
    expect(strip.locator(".talk-bar .run-teacher")).to_have_count(2)
    expect(strip.locator(".talk-bar .run-pupil")).to_have_count(1)
    expect(strip.locator(".talk-legend")).to_contain_text("Pupils")
    figures = card.locator(".talk-figures")
    expect(figures).to_contain_text("Questions per ten minutes")
    expect(figures).to_contain_text("Teacher talk")
    expect(figures.locator(".figure")).to_have_count(12)

    mark = strip.get_by_role("button", name=re.compile(r"^Open question at .*Why do you think"))
    expect(mark).to_have_count(1)
    page.wait_for_function("document.querySelector('#video').readyState >= 1")
    at = float(mark.get_attribute("data-at") or "nan")
    assert 2.0 < at < 6.0
    mark.click()
    page.wait_for_function(
        "at => Math.abs(document.querySelector('#video').currentTime - at) < 0.25", arg=at
    )
    shots.take(page, "talk-in-this-lesson")

    # "Make a clip from this moment" sets the range around the question and its wait
    moments = card.locator(".talk-moments li")
    expect(moments).to_have_count(3)  # the question and the longest stretch of each voice
    question = moments.filter(has_text="Open question")
    question.get_by_role("button", name="Make a clip from this moment").click()
    expect(page.locator("#range-note")).to_contain_text("Range set around: Open question")
    expect(page.locator("#clip-title")).to_be_focused()
    expect(page.locator("#in-time")).not_to_have_text("–")
    page.locator("#clip-title").fill("Why a half of eight is four")
    page.get_by_role("button", name="Save clip").click()
    expect(page.locator("#toast")).to_contain_text("Clip saved.")
    expect(page.locator("#lesson-clips")).to_contain_text("Why a half of eight is four")
    shots.take(page, "clip-from-a-question")


def test_the_ect_reviewing_a_shared_clip_sees_its_talk_and_a_question_seeks_the_clip(
    live_app: LiveApp, lesson_id: str, browser_context, requests_seen: Requests, shots: Shots
) -> None:  # type: ignore[no-untyped-def]
    mentor = live_app.people["mentor"]
    with httpx.Client(base_url=f"{live_app.url}/api/v1", timeout=120) as api:
        token = api.post("/auth/token", data={"username": mentor.email, "password": PASSWORD})
        api.headers["Authorization"] = f"Bearer {token.raise_for_status().json()['access_token']}"
        clip = api.post("/clips", json={"lesson_id": lesson_id, "start": 1.0, "end": 11.0})
        clip_id = str(clip.raise_for_status().json()["id"])
        api.post(f"/clips/{clip_id}/shares", json={}).raise_for_status()
        for _ in range(240):  # sharing starts the render on the clip worker
            if api.get(f"/clips/{clip_id}").json()["render_status"] == "ready":
                break
            time.sleep(0.5)

    page = browser_context().new_page()
    sign_in(page, live_app.people["ect"], f"/clips/{clip_id}")
    card, strip = page.locator("#talk-card"), page.locator("#talk-strip")
    expect(card).to_be_visible()
    expect(card).to_contain_text("Talk in this clip")
    expect(card.locator(".talk-note")).to_contain_text("never a score")
    expect(card.locator(".talk-sure")).to_contain_text("told apart by voice (90%)")
    expect(strip.locator(".talk-bar .run-pupil")).to_have_count(1)
    expect(card.locator(".talk-figures")).to_contain_text("Teacher talk")
    expect(card.locator(".talk-moments")).not_to_contain_text("Make a clip")  # the studio's

    mark = strip.get_by_role("button", name=re.compile(r"^Open question at .*Why do you think"))
    expect(mark).to_have_count(1)
    at = float(mark.get_attribute("data-at") or "nan")
    assert 1.0 < at < 5.0  # clip time: the question is 2-6 s into the lesson, the clip from 1 s
    for _ in range(240):  # the page's CSP forbids wait_for_function's polling here
        if page.evaluate("document.getElementById('video').readyState") >= 1:
            break
        page.wait_for_timeout(500)
    mark.click()
    for _ in range(20):
        now = page.evaluate("document.getElementById('video').currentTime")
        if abs(now - at) < 0.25:
            break
        page.wait_for_timeout(250)
    assert abs(now - at) < 0.25
    shots.take(page, "review-talk-in-this-clip")
