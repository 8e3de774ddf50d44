"""A coach's batch page in a real Chromium: uploads and a server folder in, live progress, the
transcripts zip, a damaged recording's plain reason and its retry.

The app runs as in production (uvicorn and a Celery worker, see conftest.py): the recordings
really go through the pipeline, transcribed by the shipped model.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from models.account import Role
from models.accounts import create_user
from models.db import session_scope
from tests import mediafactory
from tests.browser.conftest import PASSWORD, LiveApp, Person, Requests, Shots, sign_in
from tests.conftest import REPO

pytestmark = pytest.mark.browser

SPEECH = REPO / "tests" / "data" / "speech"
GOOD = [SPEECH / "common_voice_en_22058264.mp3", SPEECH / "common_voice_en_22058266.mp3"]
DONE_TIMEOUT = 300_000  # ms: three recordings through the pipeline on 2 shared cores


def _coach(app: LiveApp) -> Person:
    """A coach account, made as an admin's CLI would (the shared seed has none)."""
    with session_scope(app.settings.database_url) as session:
        user, _ = create_user(session, "coach@school.example", "Cai Coach", Role.coach, PASSWORD)
        return Person(user.email, user.name, Role.coach, user.id)


def _damaged(folder: Path) -> Path:
    """A lesson video cut off half-way without its index, like a copy that stopped early."""
    whole = folder / "whole.mp4"
    mediafactory.make_video(whole, duration=6.0, gop=25)
    cut = folder / "period 3 (cut off).mp4"
    mediafactory.truncate_copy(whole, cut, 0.5)
    return cut


def _row(page: Page, name: str) -> Locator:
    return page.locator("#batch-items tr").filter(has=page.get_by_role("rowheader", name=name))


def test_a_coach_transcribes_a_batch_downloads_the_zip_and_retries_a_damaged_file(
    live_app: LiveApp,
    browser_context: Callable[[], BrowserContext],
    requests_seen: Requests,
    shots: Shots,
    tmp_path: Path,
) -> None:
    coach = _coach(live_app)
    damaged = _damaged(tmp_path)
    # the same recording is on the school's server too: a batch of that folder reuses it
    shutil.copy(GOOD[0], live_app.recordings / "y8 ratio.mp3")
    page = browser_context().new_page()
    sign_in(page, coach)
    expect(page.locator("#home-intro")).not_to_contain_text("command line")
    page.get_by_role("link", name="Open your batches").click()
    page.wait_for_url("**/batches")
    expect(page.get_by_role("heading", name="Batch transcription")).to_be_visible()
    expect(page.get_by_text("No batches yet.")).to_be_visible()
    expect(page.locator("#folder-list")).to_contain_text("1 file: y8 ratio.mp3")

    page.get_by_label("Batch name").fill("Spring term, Year 8")
    page.locator("#batch-files").set_input_files([*GOOD, damaged])
    expect(page.locator("#batch-files-note")).to_contain_text("3 files chosen")
    shots.take(page, "chosen")
    page.get_by_role("button", name="Start batch").click()
    page.wait_for_url("**/batches/*")
    detail = page.locator("#batch-detail")
    expect(page.locator("#detail-heading")).to_have_text("Spring term, Year 8")
    expect(page.locator("#batch-items tr")).to_have_count(3)
    expect(page.locator("#batch-summary")).to_contain_text("of 3 files transcribed")
    # live: some file is seen waiting or under way before the batch finishes
    expect(
        page.locator(
            "#batch-items tr[data-status=queued], #batch-items tr[data-status=processing]"
        ).first
    ).to_be_visible()
    shots.take(page, "in-progress")
    # each file is done by stages; the page names the stage and how far it has got
    under_way = page.locator("#batch-items tr[data-status=processing]").first
    expect(under_way).to_contain_text(re.compile(r"Processing.*· \d+%"), timeout=DONE_TIMEOUT)
    shots.take(page, "processing")
    # the list beside follows the same polls (both read in one go: they change every 1.5 s)
    detail_line, list_line = page.evaluate(
        "[document.querySelector('#batch-summary').textContent,"
        " document.querySelector('#batch-list li p').textContent]"
    )
    assert list_line.endswith(detail_line), (detail_line, list_line)
    entry = page.locator("#batch-list li").filter(has_text="Spring term, Year 8")

    expect(detail).to_have_attribute("data-finished", "true", timeout=DONE_TIMEOUT)
    expect(page.locator("#batch-summary")).to_have_text("2 of 3 files transcribed · 1 failed")
    for good in GOOD:
        expect(_row(page, good.name)).to_contain_text("Transcribed")
    bad = _row(page, damaged.name)
    expect(bad).to_contain_text("Failed")
    expect(bad).to_contain_text("incomplete or damaged")
    expect(bad).not_to_contain_text("unreadable_media")
    expect(page.locator("#detail-badge")).to_have_text("1 failed")
    expect(entry).to_contain_text("2 of 3 files transcribed · 1 failed")
    shots.take(page, "finished")
    shots.take(page, "finished", phone=True)

    page.get_by_label("Subtitles (SRT)").check()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download transcripts (.zip)").click()
    download = download_info.value
    assert download.suggested_filename == "Spring term_ Year 8-transcripts.zip"
    archive = zipfile.ZipFile(io.BytesIO(Path(download.path()).read_bytes()))
    stems = [g.stem for g in GOOD]
    assert sorted(archive.namelist()) == sorted(
        ["manifest.json", *(f"{s}.{fmt}" for s in stems for fmt in ("vtt", "txt", "srt"))]
    )
    assert archive.read(f"{stems[0]}.vtt").startswith(b"WEBVTT")
    assert archive.read(f"{stems[1]}.txt").strip(), "the model heard nothing"
    manifest = json.loads(archive.read("manifest.json"))
    assert [f["source"] for f in manifest["failures"]] == [damaged.name]

    # the damaged file is processed again on request; still damaged, it fails with the same reason
    retry = page.get_by_role("button", name="Retry the failed recording")
    with page.expect_response("**/retry") as answer:
        retry.click()
    assert answer.value.status == 202
    retried = answer.value.json()
    assert retried["retried"] == 1
    # queued again (the worker, a separate process, may already have picked it up when the
    # answer is read back, as tests/api/test_batches.py allows); only the worker can fail it
    # again, so the 'failed' below is a second run
    [state] = [i["status"] for i in retried["items"] if i["source_name"] == damaged.name]
    assert state in {"queued", "processing"}, state
    expect(page.locator("#toast")).to_contain_text("Processing the recording again.")
    expect(detail).to_have_attribute("data-finished", "true", timeout=DONE_TIMEOUT)
    expect(_row(page, damaged.name)).to_contain_text("incomplete or damaged")
    expect(page.locator("#batch-summary")).to_have_text("2 of 3 files transcribed · 1 failed")

    # a second batch from the server folder: the same recording, already transcribed, is reused
    page.locator("#folder-list input").check()
    page.get_by_role("button", name="Start batch").click()
    expect(page.locator("#detail-heading")).to_contain_text("1 recording")
    expect(detail).to_have_attribute("data-finished", "true", timeout=60_000)
    reused = _row(page, "y8 ratio.mp3")
    expect(reused).to_contain_text("Transcribed")
    expect(reused).to_contain_text("Already processed earlier")
    expect(page.locator("#batch-list li")).to_have_count(2)
    expect(page.get_by_role("button", name="Retry the failed recording")).to_be_hidden()
    shots.take(page, "reused-from-folder")

    # the first batch is one click away in the list, and keeps its address
    page.get_by_role("link", name="Spring term, Year 8").click()
    expect(page.locator("#detail-heading")).to_have_text("Spring term, Year 8")
    assert page.url.endswith("/batches/" + page.evaluate("document.body.dataset.batchId"))


def test_the_batch_page_is_only_for_coaches_and_admins(
    live_app: LiveApp,
    browser_context: Callable[[], BrowserContext],
    requests_seen: Requests,
    shots: Shots,
) -> None:
    # the pages' existing refusal: the alert on the page, and the error logged to the console
    requests_seen.expected_errors.append(re.compile(r"ApiError: This page is not for your role"))
    page = browser_context().new_page()
    sign_in(page, live_app.people["ect"])
    expect(page.get_by_role("link", name="Batches")).to_be_hidden()
    page.goto("/batches")
    expect(page.get_by_role("alert")).to_have_text("This page is not for your role.")
    expect(page.locator("#batch-page")).to_be_hidden()
    assert not [u for u in requests_seen.urls if "/api/v1/batches" in u]
    shots.take(page, "not-for-an-ect")

    admin = browser_context().new_page()
    sign_in(admin, live_app.people["admin"])
    admin.get_by_role("link", name="Batches").click()
    admin.wait_for_url("**/batches")
    expect(admin.locator("#source-uploads")).to_be_hidden()  # admins do not upload lessons
    expect(admin.locator("#source-folders")).to_be_visible()
    shots.take(admin, "admin")
