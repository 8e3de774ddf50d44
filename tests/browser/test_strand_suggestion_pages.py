"""Suggested strands in the studio: a selected range shows up to three suggestions with why;
the mentor picks one, saves, and it shows as a tag; on the saved clip, a click on another
suggestion tags it too. Nothing is tagged that the mentor did not click."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import mediafactory
from tests.browser.conftest import LiveApp, Shots, sign_in, store_ready_lesson

pytestmark = pytest.mark.browser

SENTENCES = [
    "Hands down please, I want everyone thinking.",
    "Take a moment and think silently before anyone answers.",
    "What is half of eight?",
    "Ten seconds of thinking time, then I will choose someone.",
]


def test_a_suggested_strand_is_accepted_and_shows_as_a_tag(
    live_app: LiveApp, browser_context, shots: Shots, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    video = mediafactory.make_video(tmp_path / "lesson.mp4", duration=12.0, gop=25).path
    lesson_id = store_ready_lesson(
        live_app, live_app.people["ect"], "Y7 waiting", video, SENTENCES, tmp_path / "out"
    )
    page = browser_context().new_page()
    sign_in(page, live_app.people["mentor"], f"/lessons/{lesson_id}")
    # the range around the question (and the wait after it), as the talk card sets it
    question = page.locator("#talk-card .talk-moments li").filter(has_text="question")
    question.first.get_by_role("button", name="Make a clip from this moment").click()
    expect(page.locator("#in-time")).not_to_have_text("–")

    box = page.locator("#range-suggestions-box")
    expect(box).to_be_visible()
    chips = page.locator("#range-suggestions .chip")
    expect(chips.first).to_have_text("Suggested: 4m Giving thinking time before taking…")
    assert chips.count() <= 3
    expect(page.locator("#range-suggestions .why").first).to_contain_text('"thinking time"')
    chips.first.click()
    expect(chips.first).to_have_attribute("aria-pressed", "true")
    shots.take(page, "strand-suggestions-for-a-range")

    page.locator("#clip-title").fill("Hands down and thinking time")
    page.get_by_role("button", name="Save clip").click()
    expect(page.locator("#toast")).to_contain_text("tagged with 1 suggested strand")
    tags = page.locator("#clip-tags")
    expect(tags).to_contain_text("4m")
    expect(tags.locator(".chip")).to_have_count(1)

    # the saved clip offers the other suggestions; one click tags one, nothing else changes
    others = page.locator("#clip-suggestions .chip")
    expect(page.locator("#clip-suggestions-box")).to_be_visible()
    expect(others.first).to_be_visible()
    expect(page.locator("#clip-suggestions")).not_to_contain_text("4m ")
    code = (others.first.text_content() or "").split()[1]
    others.first.click()
    expect(page.locator("#toast")).to_contain_text(f"Tagged {code}")
    expect(tags.locator(".chip")).to_have_count(2)
    expect(tags).to_contain_text(code)
    expect(page.locator("#clip-suggestions")).not_to_contain_text(f"Suggested: {code} ")
    shots.take(page, "strand-suggestion-accepted")
