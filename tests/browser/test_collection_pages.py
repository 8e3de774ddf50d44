"""A collection in the pages: the mentor makes one on their home page from clips of two
lessons and shares it with their ECT; the ECT plays it, the second clip (and its comments)
following the first; another ECT sees nothing of it."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests import mediafactory
from tests.browser.conftest import PASSWORD, LiveApp, Requests, Shots, sign_in, store_ready_lesson

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def clip_ids(live_app: LiveApp, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Two clips the mentor made, one of each of the ECT's two lessons, each with a comment."""
    work = tmp_path_factory.mktemp("collection-lessons")
    ect, mentor = live_app.people["ect"], live_app.people["mentor"]
    lessons = []
    for name in ("Y7 fractions", "Y8 ratio"):
        video = mediafactory.make_video(work / f"{name}.mp4", duration=6.0, gop=25).path
        sentences = [f"Welcome to {name}.", "Think quietly for a moment."]
        lessons.append(store_ready_lesson(live_app, ect, name, video, sentences, work / name))
    made = []
    with httpx.Client(base_url=f"{live_app.url}/api/v1", timeout=30) as api:
        token = api.post("/auth/token", data={"username": mentor.email, "password": PASSWORD})
        api.headers["Authorization"] = f"Bearer {token.raise_for_status().json()['access_token']}"
        for lesson_id, title, remark in (
            (lessons[0], "First wait", "You waited three seconds here."),
            (lessons[1], "Second wait", "Hands went up after the pause."),
        ):
            clip = {"lesson_id": lesson_id, "start": 1.0, "end": 3.0, "title": title}
            clip_id = api.post("/clips", json=clip).raise_for_status().json()["id"]
            api.post(f"/clips/{clip_id}/comments", json={"at": 0.5, "body": remark})
            made.append(clip_id)
    return made


def test_a_mentor_shares_a_collection_and_the_ect_plays_it_in_order(
    live_app: LiveApp,
    clip_ids: list[str],
    browser_context,  # type: ignore[no-untyped-def]
    requests_seen: Requests,
    shots: Shots,
) -> None:
    mentor = browser_context().new_page()
    sign_in(mentor, live_app.people["mentor"], "/")
    form = mentor.locator("#collection-form")
    expect(form).to_be_visible()
    form.get_by_label("Title").fill("Wait time: two moments this half-term")
    form.get_by_label(re.compile("^First wait")).check()
    form.get_by_label(re.compile("^Second wait")).check()
    expect(form.get_by_label("Share with")).to_have_value(live_app.people["ect"].id)
    shots.take(mentor, "mentor-makes-a-collection")
    form.get_by_role("button", name="Make and share").click()
    mentor.wait_for_url(re.compile(r"/collections/[0-9a-f]+$"))
    collection_url = mentor.url.removeprefix(live_app.url)

    ect = browser_context().new_page()
    sign_in(ect, live_app.people["ect"], collection_url)
    expect(ect.locator("#page-title")).to_have_text("Wait time: two moments this half-term")
    expect(ect.locator("#clip-position")).to_have_text("Clip 1 of 2")
    expect(ect.locator("#clip-title")).to_have_text("First wait")
    expect(ect.locator("#comments")).to_contain_text("You waited three seconds here.")
    expect(ect.locator("#playlist li")).to_have_count(2)
    ect.wait_for_function(
        "() => document.getElementById('video').readyState >= 1", timeout=90_000
    )  # rendered by the worker
    shots.take(ect, "ect-plays-the-first-clip")
    ect.evaluate("() => { const v = document.getElementById('video'); v.muted = true; v.play(); }")
    # the first clip ends and the second becomes current, with its own comments
    expect(ect.locator("#clip-position")).to_have_text("Clip 2 of 2", timeout=60_000)
    expect(ect.locator("#clip-title")).to_have_text("Second wait")
    expect(ect.locator("#comments")).to_contain_text("Hands went up after the pause.")
    expect(ect.locator("#comments")).not_to_contain_text("You waited three seconds here.")
    expect(ect.locator("#playlist li").nth(1)).to_have_attribute("aria-current", "true")
    ect.wait_for_function(
        "(id) => document.getElementById('video').currentSrc.includes(id)", arg=clip_ids[1]
    )
    ect.wait_for_function("() => document.getElementById('video').readyState >= 1", timeout=90_000)
    shots.take(ect, "ect-on-the-second-clip")
    ect.get_by_role("button", name="Previous clip").click()
    expect(ect.locator("#clip-position")).to_have_text("Clip 1 of 2")
    ect.goto("/")
    expect(ect.locator("#collections")).to_contain_text("Wait time: two moments this half-term")

    # another ECT: nothing on their home page, and the collection's address finds nothing
    requests_seen.expected_errors.append(re.compile(r"status of 404"))
    other = browser_context().new_page()
    sign_in(other, live_app.people["other_ect"], "/")
    expect(other.locator("#collections-empty")).to_be_visible()
    expect(other.locator("#collections li")).to_have_count(0)
    other.goto(collection_url)
    expect(other.locator("#collection-empty")).to_have_text(
        "This collection is not shared with you, or no longer exists."
    )
    expect(other.locator("#clip-title")).to_have_text("")
    shots.take(other, "other-ect-sees-nothing")

    # the ECT answers a comment where it plays
    ect.goto(collection_url)
    first = ect.locator("#comments .comment").first
    expect(first).to_contain_text("You waited three seconds here.")
    first.get_by_role("button", name="Reply", exact=True).click()
    first.get_by_label(re.compile("^Reply to the comment at")).fill("I counted to three first.")
    first.get_by_role("button", name="Send reply").click()
    expect(first.locator(".reply")).to_contain_text("I counted to three first.")
    shots.take(ect, "ect-replies-in-the-collection")

    # the mentor reads the reply, renames the collection, puts the second clip first and then
    # stops sharing it; the ECT follows each change
    mentor.goto(collection_url)
    manage = mentor.locator("#collection-manage")
    expect(manage).to_be_visible()
    expect(mentor.locator("#comments .reply")).to_contain_text("I counted to three first.")
    expect(manage.locator("#share-list")).to_contain_text("Eli Early")
    expect(manage.locator("#order-list li")).to_have_count(2)
    manage.get_by_label("Title").fill("Wait time: the better moment first")
    manage.get_by_role("button", name="Save title and note").click()
    expect(mentor.locator("#page-title")).to_have_text("Wait time: the better moment first")
    manage.get_by_role("button", name="Move “Second wait” earlier").click()
    expect(mentor.locator("#clip-title")).to_have_text("Second wait")
    expect(manage.locator("#order-list li").first).to_contain_text("Second wait")
    manage.scroll_into_view_if_needed()
    shots.take(mentor, "mentor-manages-the-collection")
    ect.reload()
    expect(ect.locator("#page-title")).to_have_text("Wait time: the better moment first")
    expect(ect.locator("#clip-title")).to_have_text("Second wait")
    expect(ect.locator("#collection-manage")).to_be_hidden()  # the mentor's part only
    mentor.once("dialog", lambda dialog: dialog.accept())
    manage.get_by_role("button", name="Stop sharing with Eli Early").click()
    expect(manage.locator("#share-list")).to_have_text("Not shared: only you see it.")
    expect(manage.get_by_label("Share with")).to_have_value(live_app.people["ect"].id)
    ect.reload()
    expect(ect.locator("#collection-empty")).to_have_text(
        "This collection is not shared with you, or no longer exists."
    )
