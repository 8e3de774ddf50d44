"""Self-reflection in the pages: the ECT clips, tags and notes their own lesson in the studio,
privately, then shares the clip with their mentor, who sees it only after that."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests import mediafactory
from tests.browser.conftest import LiveApp, Requests, Shots, sign_in, store_ready_lesson

pytestmark = pytest.mark.browser

SENTENCES = [
    "Hands down, everyone thinking.",
    "Why does the ice melt faster on the metal block? Take three seconds.",
    "Now tell your partner what you think.",
]


@pytest.fixture(scope="module")
def lesson_id(live_app: LiveApp, tmp_path_factory: pytest.TempPathFactory) -> str:
    work = tmp_path_factory.mktemp("reflection-lesson")
    video = mediafactory.make_video(work / "lesson.mp4", duration=10.0, gop=25).path
    return store_ready_lesson(
        live_app, live_app.people["ect"], "Y8 heat transfer", video, SENTENCES, work / "out"
    )


def test_ect_reflects_privately_then_shares_with_mentor(
    live_app: LiveApp, lesson_id: str, browser_context, requests_seen: Requests, shots: Shots
) -> None:  # type: ignore[no-untyped-def]
    ect = browser_context().new_page()
    sign_in(ect, live_app.people["ect"], f"/lessons/{lesson_id}")
    expect(ect.locator("#clip-form")).to_be_visible()
    expect(ect.locator("#clip-form-heading")).to_have_text("Save a clip for your reflection")
    ect.locator("#segments button").nth(1).click()
    ect.get_by_label("Title").fill("My wait time after the question")
    ect.get_by_label("Note (optional)").fill("I answered my own question after one second.")
    ect.get_by_role("button", name="Save clip").click()
    expect(ect.locator("#clip-panel-title")).to_have_text("My wait time after the question")
    expect(ect.locator("#reflection-note")).to_contain_text("private to you")
    ect.get_by_label("Search strands").fill("questioning")
    ect.locator("#strand-results button").first.click()
    expect(ect.locator("#clip-tags .chip")).to_have_count(1)
    ect.get_by_label("Comment at").fill("Next time: count to three in my head.")
    ect.get_by_role("button", name="Add comment").click()
    expect(ect.locator("#comments .comment")).to_have_count(1)
    expect(ect.locator("#lesson-clips")).to_contain_text("Your reflection")

    mentor = browser_context().new_page()
    sign_in(mentor, live_app.people["mentor"], f"/lessons/{lesson_id}")
    expect(mentor.locator("#studio")).to_be_visible()
    expect(mentor.locator("#lesson-clips")).to_contain_text("None yet.")

    ect.get_by_role("button", name="Share with my mentor").click()
    expect(ect.locator("#shares")).to_contain_text("Shared with Morgan Mentor")
    ect.locator("#clip-panel").scroll_into_view_if_needed()
    shots.take(ect, "ect-studio-reflection")

    mentor.reload()
    expect(mentor.locator("#lesson-clips")).to_contain_text("Eli Early's reflection")
    mentor.locator("#lesson-clips button").first.click()
    expect(mentor.locator("#reflection-note")).to_contain_text("chose to share")
    expect(mentor.locator("#comments")).to_contain_text("count to three")
    expect(mentor.locator("#tag-picker")).to_be_hidden()
    expect(mentor.locator("#clip-tags .chip")).to_have_count(1)
    expect(mentor.locator("#clip-tags .chip-remove")).to_have_count(0)  # the ECT's tags
    expect(mentor.locator("#share-section")).to_be_hidden()
    shots.take(mentor, "mentor-sees-shared-reflection")

    # another ECT asking for the lesson is told it does not exist (the page reports the 404)
    requests_seen.expected_errors += [re.compile("404"), re.compile("lesson not found")]
    other = browser_context().new_page()
    sign_in(other, live_app.people["other_ect"], f"/lessons/{lesson_id}")
    expect(other.locator("#page-title")).not_to_have_text("Y8 heat transfer")
