"""Model practice in the pages (issue 22 point 3): the admin makes a school-wide group of two
ECTs; the mentor marks a clip of their own lesson as model practice and shares it with that
group; both ECTs of the group find and watch it, a third ECT finds nothing until the admin
publishes it to the school's library, where it is found by its strand."""

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
    Requests,
    Shots,
    sign_in,
    store_ready_lesson,
)

pytestmark = pytest.mark.browser
TITLE = "Waiting three seconds"


@pytest.fixture(scope="module")
def third_ect(live_app: LiveApp) -> Person:
    from models.account import Role
    from models.accounts import create_user
    from models.db import session_scope

    with session_scope(live_app.settings.database_url) as session:
        user, _ = create_user(session, "tia@school.example", "Tia Third", Role.ect, PASSWORD)
        return Person("tia@school.example", "Tia Third", Role.ect, user.id)


@pytest.fixture(scope="module")
def model_clip(live_app: LiveApp, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A clip of the mentor's own lesson, tagged 4e, not yet model practice."""
    work = tmp_path_factory.mktemp("model-lesson")
    mentor = live_app.people["mentor"]
    video = mediafactory.make_video(work / "model.mp4", duration=6.0, gop=25).path
    sentences = ["Who can tell me why?", "Take three seconds to think first."]
    lesson_id = store_ready_lesson(live_app, mentor, "Y9 forces", video, sentences, work / "l")
    with httpx.Client(base_url=f"{live_app.url}/api/v1", timeout=30) as api:
        token = api.post("/auth/token", data={"username": mentor.email, "password": PASSWORD})
        api.headers["Authorization"] = f"Bearer {token.raise_for_status().json()['access_token']}"
        clip = {"lesson_id": lesson_id, "start": 1.0, "end": 4.0, "title": TITLE}
        clip_id: str = api.post("/clips", json=clip).raise_for_status().json()["id"]
        api.post(f"/clips/{clip_id}/tags", json={"strand_ids": ["ecf-2019:4e"]}).raise_for_status()
        api.post(f"/clips/{clip_id}/comments", json={"at": 0.5, "body": "Count it in your head."})
    return clip_id


def test_a_model_clip_reaches_the_two_ects_of_a_group_and_no_one_else(
    live_app: LiveApp,
    model_clip: str,
    third_ect: Person,
    browser_context,  # type: ignore[no-untyped-def]
    requests_seen: Requests,  # fails the test on any page error
    shots: Shots,
) -> None:
    people = live_app.people
    # the admin makes a school-wide group: Eli (paired with the mentor) and Tia
    admin = browser_context().new_page()
    sign_in(admin, people["admin"], "/model-practice")
    form = admin.locator("#mp-group-form")
    form.get_by_label("New group").fill("Year 1 ECTs")
    form.get_by_label("Eli Early").check()
    form.get_by_label("Tia Third").check()
    form.get_by_role("button", name="Make the group").click()
    expect(admin.locator("#mp-groups")).to_contain_text("Year 1 ECTs")
    expect(admin.locator("#mp-groups")).to_contain_text("Eli Early, Tia Third")

    # the mentor marks their clip as model practice and shares it with the group
    mentor = browser_context().new_page()
    sign_in(mentor, people["mentor"], "/model-practice")
    mark = mentor.locator("#mp-mark-form")
    expect(mark.get_by_label("Clip")).to_contain_text(TITLE)
    mark.get_by_label("What to watch for").fill("Notice the pause before I take an answer.")
    mark.get_by_role("button", name="Mark as model practice").click()
    card = mentor.locator(".mp-card", has_text=TITLE)
    expect(card).to_be_visible()
    card.get_by_label(f"Share “{TITLE}” with").select_option(label="Group: Year 1 ECTs (2)")
    card.get_by_role("button", name="Share").click()
    expect(card.locator(".mp-shared")).to_have_text("Shared with group Year 1 ECTs")
    shots.take(mentor, "mentor-shares-with-a-group")

    # both members are told: it is on their home page's feed and counts as a new share
    for key, person in (("eli", people["ect"]), ("tia", third_ect)):
        home = browser_context().new_page()
        sign_in(home, person, "/")
        item = home.locator("#feed .feed-item", has_text=TITLE)
        expect(item).to_be_visible()
        expect(item.locator(".kind-label")).to_have_text("Model practice")
        expect(item).to_contain_text("Shared by Morgan Mentor")
        expect(item).to_contain_text("From the lesson “Y9 forces”")
        if key == "tia":  # a new account: this share is all there is to tell
            expect(home.locator("#bell-count")).to_have_text("1")
        home.locator("#bell-button").click()
        expect(home.locator("#bell-panel .nt-item.unread")).to_contain_text(
            "Morgan Mentor shared a model clip with you"
        )
        shots.take(home, f"{key}-home-feed-with-the-model-clip")
        home.close()

    # both members find it and watch it
    for key, person in (("eli", people["ect"]), ("tia", third_ect)):
        page = browser_context().new_page()
        sign_in(page, person, "/model-practice")
        card = page.locator(".mp-card", has_text=TITLE)
        expect(card).to_be_visible()
        expect(card).to_contain_text("Notice the pause before I take an answer.")
        expect(card).to_contain_text("4e")
        expect(page.locator("#mp-mark-section")).to_be_hidden()
        if key == "eli":
            shots.take(page, "ect-in-the-group-finds-it")
        card.get_by_role("link", name=TITLE).click()
        page.wait_for_url(re.compile(rf"/clips/{model_clip}$"))
        expect(page.locator("#comments")).to_contain_text("Count it in your head.")
        page.wait_for_function(
            "() => document.getElementById('video').readyState >= 1", timeout=90_000
        )  # rendered by the worker, as for any shared clip
        if key == "tia":
            shots.take(page, "second-ect-watches-it")

    # a third ECT, in no group: nothing on the page, nothing in their feed, and the clip's own
    # address (a link passed on) says plainly it is not theirs to watch
    other = browser_context().new_page()
    sign_in(other, people["other_ect"], "/model-practice")
    expect(other.locator("#mp-empty")).to_be_visible()
    expect(other.locator(".mp-card")).to_have_count(0)
    shots.take(other, "ect-outside-the-group-sees-nothing")
    other.goto("/")
    expect(other.locator("#feed-empty")).to_be_visible()
    requests_seen.expected_errors.append(re.compile(r"status of 404"))
    other.goto(f"/clips/{model_clip}")
    expect(other.locator("#page-title")).to_have_text("This clip is not available to you")
    expect(other.locator("#clip-missing")).to_contain_text(
        "This clip is not shared with you, or it no longer exists."
    )
    expect(other.locator("#video")).to_be_hidden()
    expect(other.locator("main .error")).to_have_count(0)  # not the raw "clip not found"
    shots.take(other, "ect-outside-the-group-opens-the-link")

    # the admin publishes it to the library (they see the record, not the recording)
    admin.reload()
    card = admin.locator(".mp-card", has_text=TITLE)
    expect(card.get_by_role("link")).to_have_count(0)
    card.get_by_role("button", name="Publish to the library").click()
    expect(card.get_by_text("In the library")).to_be_visible()
    shots.take(admin, "admin-publishes-to-the-library")

    # now the third ECT finds it in the library, by its strand
    other.goto("/model-practice")
    other.get_by_label("Show", exact=True).select_option("library")
    other.get_by_label("Framework strand").select_option("ecf-2019:4e")
    expect(other.locator(".mp-card", has_text=TITLE)).to_be_visible()
    expect(other.locator("#mp-count")).to_have_text("1 model clip")
    shots.take(other, "library-filtered-by-strand")
    shots.take(other, "library-filtered-by-strand", phone=True)
    other.get_by_label("Framework strand").select_option("ecf-2019:2a")
    expect(other.locator("#mp-empty")).to_be_visible()
