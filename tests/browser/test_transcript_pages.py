"""The transcript in the pages: unsure words marked with a legend, a sentence corrected in the
studio (and the captions the player loads follow), a search that opens the moment, and the
ECT's review page showing a shared clip's words with the unsure ones marked."""

from __future__ import annotations

import re

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
    "What is half of ate? Think before you answer.",
    "Now talk to your partner about equivalent fractions.",
]


@pytest.fixture(scope="module")
def lesson_id(live_app: LiveApp, tmp_path_factory: pytest.TempPathFactory) -> str:
    work = tmp_path_factory.mktemp("transcript-lesson")
    video = mediafactory.make_video(work / "lesson.mp4", duration=12.0, gop=25).path
    return store_ready_lesson(
        live_app, live_app.people["ect"], "Y7 halves", video, SENTENCES, work / "out",
        unsure=frozenset({"ate?", "partner"}),
    )  # fmt: skip


CAPTIONS_TEXT = """async () => {
    const track = document.querySelector('#video track[kind=captions]');
    const response = await fetch(track.src, { cache: 'no-store' });
    return (await response.text()).replace(/[ \\t]+/g, ' ');
}"""


def test_a_mentor_corrects_an_unsure_word_and_the_captions_follow(
    live_app: LiveApp, lesson_id: str, browser_context, requests_seen: Requests, shots: Shots
) -> None:  # type: ignore[no-untyped-def]
    page = browser_context().new_page()
    sign_in(page, live_app.people["mentor"], f"/lessons/{lesson_id}")
    expect(page.locator("#studio")).to_be_visible()
    transcript = page.locator("#transcript")
    expect(transcript.locator(".w.unsure")).to_have_count(2)
    expect(transcript.locator(".w.unsure").first).to_have_text("ate?")
    expect(transcript.locator(".w.unsure").first).to_have_attribute("title", re.compile("30 %"))
    legend = page.locator("#unsure-legend")
    expect(legend).to_be_visible()
    expect(legend).to_contain_text("unsure")
    shots.take(page, "confidence-legend")
    assert "half of ate?" in page.evaluate(CAPTIONS_TEXT)

    line = transcript.locator(".t-line").nth(1)
    line.get_by_role("button", name=re.compile("Correct the sentence")).click()
    field = page.get_by_label(re.compile("Corrected sentence"))
    expect(field).to_have_value("What is half of ate? Think before you answer.")
    field.fill("What is half of eight? Think before you answer.")
    shots.take(page, "correcting-a-sentence")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#toast")).to_contain_text("version 2")

    corrected = transcript.locator(".t-line").nth(1)
    expect(corrected).to_contain_text("half of eight?")
    expect(corrected.locator(".w.unsure")).to_have_count(0)  # a typed word is not unsure
    expect(transcript.locator(".w.unsure")).to_have_count(1)  # "partner" still is
    vtt = page.evaluate(CAPTIONS_TEXT)
    assert "half of eight?" in vtt and "ate?" not in vtt
    expect(page.locator("#segments")).to_contain_text("half of eight?")  # made again
    shots.take(page, "after-correction")

    # and back: version 1 made the newest again, captions with it
    page.get_by_text("Versions of this transcript").click()
    page.get_by_role("button", name="Go back to version 1").click()
    expect(page.locator("#toast")).to_contain_text("version 3")
    expect(transcript.locator(".t-line").nth(1)).to_contain_text("half of ate?")
    expect(page.locator("#versions li").first).to_contain_text("back to version 1 (current)")
    assert "half of ate?" in page.evaluate(CAPTIONS_TEXT)
    shots.take(page, "after-revert")


def test_search_finds_the_words_and_opens_the_studio_at_the_moment(
    live_app: LiveApp, lesson_id: str, browser_context, requests_seen: Requests, shots: Shots
) -> None:  # type: ignore[no-untyped-def]
    page = browser_context().new_page()
    sign_in(page, live_app.people["mentor"], "/")
    box = page.get_by_role("searchbox", name="Search transcripts")
    box.fill('"equivalent fractions"')
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    results = page.locator("#search-results li")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Y7 halves")
    expect(results.first.locator("mark")).to_have_text(["equivalent fractions"])
    shots.take(page, "search-results")
    results.first.locator("a").click()
    page.wait_for_url(re.compile(rf"/lessons/{lesson_id}\?t="))
    expect(page.locator("#studio")).to_be_visible()
    start = float(page.url.split("t=")[1])
    assert start > 0
    page.wait_for_function(
        "(t) => Math.abs(document.getElementById('video').currentTime - t) < 0.5", arg=start
    )

    # an ECT who does not own the lesson finds none of its words
    other = browser_context().new_page()
    sign_in(other, live_app.people["other_ect"], "/search?q=fractions")
    expect(other.locator("#search-status")).to_contain_text("Nothing found")


def test_the_ects_review_page_shows_the_clips_words_with_unsure_ones_marked(
    live_app: LiveApp, lesson_id: str, browser_context, requests_seen: Requests, shots: Shots
) -> None:  # type: ignore[no-untyped-def]
    mentor = live_app.people["mentor"]
    with httpx.Client(base_url=f"{live_app.url}/api/v1", timeout=30) as api:
        token = api.post("/auth/token", data={"username": mentor.email, "password": PASSWORD})
        api.headers["Authorization"] = f"Bearer {token.raise_for_status().json()['access_token']}"
        clip = {"lesson_id": lesson_id, "start": 8.0, "end": 12.0, "title": "Partner talk"}
        clip_id = api.post("/clips", json=clip).raise_for_status().json()["id"]
        api.post(f"/clips/{clip_id}/shares", json={}).raise_for_status()

    page = browser_context().new_page()
    sign_in(page, live_app.people["ect"], f"/clips/{clip_id}")
    words = page.locator("#clip-transcript")
    expect(words).to_contain_text("Now talk to your partner about equivalent fractions.")
    expect(words).not_to_contain_text("half")  # said before the clip starts
    expect(words.locator(".w.unsure")).to_have_text(["partner"])
    expect(words.locator(".w.unsure")).to_have_attribute("title", re.compile("30 %"))
    expect(page.locator("#unsure-legend")).to_be_visible()
    shots.take(page, "review-transcript-unsure")

    words.get_by_text("equivalent", exact=True).click()  # a word opens the clip at its moment
    page.wait_for_function("() => document.getElementById('video').currentTime > 1.5")
