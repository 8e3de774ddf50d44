"""The studio opens on a lesson whose video is still being converted (issue 16): transcript and
poster now, a "video converting: N %" notice, and the video itself once the browser copy is
stored, without the teacher reloading anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from models.db import session_scope, utcnow
from models.lesson import Lesson, LessonStage, LessonStatus, StageStatus
from pipeline.lesson import STAGES
from tests import mediafactory
from tests.browser.conftest import LiveApp, Shots, sign_in, store_ready_lesson

pytestmark = pytest.mark.browser

SENTENCES = ["Today we compare ratios with a bar model.", "Work with your partner on the first."]


def _hold_back_the_video(app: LiveApp, lesson_id: str, progress: float) -> None:
    """As processing leaves a transcoded lesson: every stage done but normalise, no media yet."""
    with session_scope(app.settings.database_url) as session:
        lesson = session.get(Lesson, lesson_id)
        assert lesson is not None
        lesson.status, lesson.stage, lesson.progress = LessonStatus.processing, "normalise", 70
        lesson.media_key, lesson.ready_at = None, None
        for name in STAGES:
            running = name == "normalise"
            session.add(
                LessonStage(
                    lesson_id=lesson_id,
                    name=name,
                    status=StageStatus.running if running else StageStatus.done,
                    progress=progress if running else 1.0,
                )
            )


def _store_the_video(app: LiveApp, lesson_id: str) -> None:
    with session_scope(app.settings.database_url) as session:
        lesson = session.get(Lesson, lesson_id)
        assert lesson is not None
        row = next(s for s in lesson.stages if s.name == "normalise")
        row.status, row.progress = StageStatus.done, 1.0
        lesson.media_key = lesson.artefact_key("lesson.mp4")
        lesson.status, lesson.stage, lesson.progress = LessonStatus.ready, None, 100
        lesson.ready_at = utcnow()


def test_studio_shows_the_transcript_while_the_video_converts(
    live_app: LiveApp,
    browser_context,
    shots: Shots,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    video = mediafactory.make_video(tmp_path / "phone.mp4", duration=6.0).path
    ect = live_app.people["ect"]
    lesson_id = store_ready_lesson(live_app, ect, "Ratio", video, SENTENCES, tmp_path / "work")
    _hold_back_the_video(live_app, lesson_id, 0.45)

    page = browser_context().new_page()
    sign_in(page, ect)
    page.goto(f"/lessons/{lesson_id}")
    notice = page.locator("#converting-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Video converting: 45 %")
    expect(page.locator("#transcript .w").first).to_be_visible()
    expect(page.locator("#transcript")).to_contain_text("bar model")
    expect(page.locator("#status-card")).to_be_hidden()
    expect(page.locator("#clip-form")).to_be_hidden()
    assert page.locator("#video").get_attribute("poster")
    shots.take(page, "converting")

    _store_the_video(live_app, lesson_id)
    expect(notice).to_be_hidden(timeout=20_000)
    page.wait_for_function("() => document.querySelector('#video').readyState >= 1", timeout=20_000)
    expect(page.locator("#clip-form")).to_be_visible()
    shots.take(page, "converted")
