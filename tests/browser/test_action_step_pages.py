"""One coaching cycle in the pages: the mentor observes the ECT's lesson, comments on it, clips
a moment, tags it, comments on the clip and sets an action step from it; the ECT answers, clips
their practice in a later lesson, sees the step on their home page, marks it practised with a
note and that clip as evidence; the mentor reviews the evidence and closes the step."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests import mediafactory
from tests.browser.conftest import (
    PASSWORD,
    LiveApp,
    Person,
    Shots,
    sign_in,
    store_ready_lesson,
)

pytestmark = pytest.mark.browser

SENTENCES = [
    "Pens down and eyes on me, thank you.",
    "What is a third of twelve? Think first, no hands yet.",
    "Now turn to your partner and explain how you know.",
]
STEP = "After each question, wait three seconds before taking an answer."


def _token(app: LiveApp, person: Person) -> dict[str, str]:
    answer = httpx.post(
        f"{app.url}/api/v1/auth/token", data={"username": person.email, "password": PASSWORD}
    )
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.fixture(scope="module")
def lessons(live_app: LiveApp, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The observed lesson, and a later one from which the ECT clipped their practice."""
    work = tmp_path_factory.mktemp("cycle-lessons")
    video = mediafactory.make_video(work / "lesson.mp4", duration=10.0, gop=25).path
    ect = live_app.people["ect"]
    observed = store_ready_lesson(live_app, ect, "Y7 fractions", video, SENTENCES, work / "a")
    later = store_ready_lesson(live_app, ect, "Y7 fractions again", video, SENTENCES, work / "b")
    return observed, later


def test_mentor_sets_a_step_the_ect_practises_it_the_mentor_closes_it(
    live_app: LiveApp, lessons: tuple[str, str], browser_context, shots: Shots
) -> None:  # type: ignore[no-untyped-def]
    observed, later = lessons
    ect_person, mentor_person = live_app.people["ect"], live_app.people["mentor"]
    # the induction lead has set the ECT's induction start (year one: weekly observations)
    answer = httpx.patch(
        f"{live_app.url}/api/v1/admin/users/{ect_person.id}",
        json={"induction_start": "2026-09-01"},
        headers=_token(live_app, live_app.people["admin"]),
    )
    assert answer.status_code == 200, answer.text

    mentor = browser_context().new_page()
    sign_in(mentor, mentor_person, f"/lessons/{observed}")
    expect(mentor.locator("#studio")).to_be_visible()
    expect(mentor.locator("#lesson-comments")).to_contain_text("No comments yet.")
    mentor.locator("#transcript .w", has_text="partner").click()  # the last sentence
    mentor.get_by_label("What you noticed at").fill("Calm, clear start: everyone was with you.")
    mentor.get_by_role("button", name="Add lesson comment").click()
    comment = mentor.locator("#lesson-comments .comment")
    expect(comment).to_have_count(1)
    at = float(comment.get_attribute("data-at") or 0)
    assert at > 6, at
    # a lesson comment is a moment of the lesson: clicking it brings the video back there
    mentor.locator("#transcript .w", has_text="Pens").click()
    mentor.wait_for_function("() => document.getElementById('video').currentTime < 2")
    comment.locator(".comment-jump").click()
    mentor.wait_for_function(
        "(at) => Math.abs(document.getElementById('video').currentTime - at) < 0.3", arg=at
    )
    comment.get_by_role("button", name="Edit").click()
    comment.get_by_label("Edit your comment").fill("Calm, clear start: every pupil was with you.")
    comment.get_by_role("button", name="Save changes").click()
    expect(comment).to_contain_text("every pupil was with you")
    expect(comment).to_contain_text("edited")

    mentor.locator("#segments button").nth(1).click()
    mentor.get_by_label("Title").fill("Answering my own question")
    mentor.get_by_role("button", name="Save clip").click()
    expect(mentor.locator("#clip-panel-title")).to_have_text("Answering my own question")
    mentor.get_by_label("Search strands").fill("questioning")
    mentor.locator("#strand-results button").first.click()
    expect(mentor.locator("#clip-tags .chip")).to_have_count(1)  # the clip is tagged...
    expect(mentor.locator("#step-strands input:checked")).to_have_count(1)  # ...and the step too
    mentor.get_by_label(re.compile("^Comment at")).fill("You answered it yourself after a second.")
    mentor.get_by_role("button", name="Add comment").click()
    expect(mentor.locator("#comments .comment")).to_have_count(1)
    mentor.get_by_label("Action step").fill(STEP)
    mentor.get_by_role("button", name="Set action step").click()
    expect(mentor.locator(".toast")).to_contain_text("Action step set for Eli Early")
    mentor.locator("#step-form").scroll_into_view_if_needed()
    shots.take(mentor, "mentor-studio-sets-step")

    # the ECT answers the lesson comment; the mentor then removes theirs: the thread still reads
    ect = browser_context().new_page()
    sign_in(ect, ect_person, f"/lessons/{observed}")
    thread = ect.locator("#lesson-comments .comment")
    expect(thread).to_contain_text("every pupil was with you")
    expect(thread.get_by_role("button", name="Edit")).to_have_count(0)  # not theirs to change
    thread.get_by_role("button", name="Reply").click()
    thread.get_by_label("Reply to the comment at").fill("Thank you: I planned the first minute.")
    thread.get_by_role("button", name="Send reply").click()
    expect(thread.locator(".reply")).to_contain_text("I planned the first minute")
    mentor.reload()
    expect(comment.locator(".reply")).to_have_count(1)
    mentor.once("dialog", lambda dialog: dialog.accept())
    comment.get_by_role("button", name="Delete").click()
    expect(comment.locator(":scope > .body")).to_have_text("Comment removed")
    expect(comment.locator(".reply")).to_contain_text("I planned the first minute")
    comment.scroll_into_view_if_needed()
    shots.take(mentor, "mentor-lesson-comment-removed", full_page=False)

    # the ECT practises in a later lesson and clips the moment for their own reflection
    ect.goto(f"/lessons/{later}")
    expect(ect.locator("#clip-form-heading")).to_have_text("Save a clip for your reflection")
    ect.locator("#segments button").nth(1).click()
    ect.get_by_label("Title").fill("Waiting after my question")
    ect.get_by_role("button", name="Save clip").click()
    expect(ect.locator("#clip-panel-title")).to_have_text("Waiting after my question")
    expect(ect.locator("#reflection-note")).to_contain_text("private to you")
    expect(ect.locator("#lesson-clips")).to_contain_text("Your reflection")
    expect(ect.locator("#strand-results .result").first).to_be_visible()  # the picker loaded
    shots.take(ect, "ect-clips-the-practice")

    ect.goto("/")
    card = ect.locator("#steps .step")
    expect(card).to_have_count(1)
    expect(card).to_contain_text(STEP)
    expect(card).to_contain_text("From Morgan Mentor")
    expect(ect.locator("#observation-due")).to_contain_text("Your next observation is due")
    expect(ect.locator("#observation-due")).to_contain_text("weekly in year one")
    shots.take(ect, "ect-home-step")
    card.get_by_label("How did it go?").fill("Counted to three in my head; twice as many hands.")
    card.get_by_label("Evidence").select_option(
        label="Waiting after my question (Y7 fractions again)"
    )
    card.get_by_role("button", name="Mark as practised").click()
    expect(card.locator(".badge")).to_have_text("Practised")
    expect(card).to_contain_text("twice as many hands")

    mentor.goto("/")
    review = mentor.locator("#steps .step")
    expect(review).to_contain_text("For Eli Early")
    expect(review).to_contain_text("twice as many hands")
    expect(review.get_by_role("link", name="Waiting after my question")).to_be_visible()
    shots.take(mentor, "mentor-home-review")
    review.get_by_label("Review note (optional)").fill("Secure: keep it going.")
    review.get_by_role("button", name="Close step").click()
    expect(mentor.locator("#steps-empty")).to_be_visible()

    closed = httpx.get(
        f"{live_app.url}/api/v1/action-steps", headers=_token(live_app, ect_person)
    ).json()
    assert [(s["status"], s["review_note"]) for s in closed] == [
        ("closed", "Secure: keep it going.")
    ]
