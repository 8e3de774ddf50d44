"""Bugs a mentor and an ECT hit in the pages, each driven the way a hurried person would.

Lessons are stored ready (tests/browser/conftest.py `store_ready_lesson`), so these tests do not
wait for the pipeline; the pipeline's own pages are covered in test_coaching_pages.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, Route, expect

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
    "What is half of eight? Think for a moment before you answer.",
    "Now talk to your partner about equivalent fractions.",
]


@pytest.fixture(scope="module")
def lesson_id(live_app: LiveApp, tmp_path_factory: pytest.TempPathFactory) -> str:
    work = tmp_path_factory.mktemp("polish-lesson")
    video = mediafactory.make_video(work / "lesson.mp4", duration=12.0, gop=25).path
    return store_ready_lesson(
        live_app, live_app.people["ect"], "Y7 fractions", video, SENTENCES, work / "out"
    )


def _open_studio(page: Page, live_app: LiveApp, lesson_id: str) -> None:
    sign_in(page, live_app.people["mentor"], f"/lessons/{lesson_id}")
    expect(page.locator("#studio")).to_be_visible()
    expect(page.locator("#segments button").first).to_be_visible()


def test_saving_a_clip_clears_the_form_for_the_next_one(
    live_app: LiveApp, lesson_id: str, browser_context, requests_seen: Requests, shots: Shots
) -> None:  # type: ignore[no-untyped-def]
    page = browser_context().new_page()
    _open_studio(page, live_app, lesson_id)
    page.locator("#segments button").first.click()
    page.get_by_label("Title").fill("Settling the class")
    page.get_by_label("Note (optional)").fill("Look at how quickly the room goes quiet.")
    page.get_by_role("button", name="Save clip").click()
    expect(page.locator("#clip-panel-title")).to_have_text("Settling the class")
    expect(page.get_by_label("Title")).to_have_value("")
    expect(page.get_by_label("Note (optional)")).to_have_value("")
    expect(page.locator("#in-time")).to_have_text("–")
    shots.take(page, "studio-after-save")

    # A second clip without marking a new range is refused instead of reusing the first one's.
    page.get_by_label("Title").fill("Second moment")
    page.get_by_role("button", name="Save clip").click()
    expect(page.locator("#clip-error")).to_contain_text("Mark in and out")


def test_strand_search_shows_only_the_current_querys_results(
    live_app: LiveApp, lesson_id: str, browser_context, requests_seen: Requests, shots: Shots
) -> None:  # type: ignore[no-untyped-def]
    """The answer to an earlier query ("6q") arrives after the current one ("questioning"):
    it must never replace the results on screen, and the strand clicked is the one tagged."""
    page = browser_context().new_page()
    _open_studio(page, live_app, lesson_id)
    page.locator("#segments button").nth(1).click()
    page.get_by_label("Title").fill("Thinking time")
    page.get_by_role("button", name="Save clip").click()
    expect(page.locator("#clip-panel")).to_be_visible()
    expect(page.locator("#strand-results button").first).to_be_visible()

    held: list[Route] = []
    page.route(re.compile(r".*/strands\?.*q=6q.*"), lambda route: held.append(route))
    search = page.get_by_label("Search strands")
    search.fill("6q")
    page.wait_for_timeout(600)  # past the debounce: the 6q request is out, held by the route
    assert held, "the first query's request was not sent"
    search.fill("questioning")
    results = page.locator("#strand-results button")
    expect(results.first).to_contain_text("Planning questions that make pupils think hard")
    held[0].continue_()
    page.wait_for_timeout(800)  # the stale answer arrives now
    expect(results.first).to_contain_text("questions")
    expect(page.locator("#strand-results")).not_to_contain_text("6q")
    shots.take(page, "studio-strand-search")

    results.first.click()
    expect(page.locator("#clip-tags")).to_contain_text("4l")
    expect(page.locator("#clip-tags")).to_contain_text("Planning questions")


def _shared_clip(live_app: LiveApp, lesson_id: str, title: str, comments: list[str]) -> str:
    """A clip the mentor made through the API, with `comments`, shared with the lesson's ECT."""
    mentor = live_app.people["mentor"]
    with httpx.Client(base_url=f"{live_app.url}/api/v1", timeout=30) as api:
        token = api.post("/auth/token", data={"username": mentor.email, "password": PASSWORD})
        api.headers["Authorization"] = f"Bearer {token.raise_for_status().json()['access_token']}"
        clip = api.post(
            "/clips", json={"lesson_id": lesson_id, "start": 1, "end": 7, "title": title}
        )
        clip_id = str(clip.raise_for_status().json()["id"])
        for at, body in enumerate(comments):
            comment = {"at": at * 2 + 0.5, "body": body}
            api.post(f"/clips/{clip_id}/comments", json=comment).raise_for_status()
        api.post(f"/clips/{clip_id}/shares", json={}).raise_for_status()
    return clip_id


def test_a_reply_answers_the_comment_the_ect_clicked(
    live_app: LiveApp, lesson_id: str, browser_context, requests_seen: Requests, shots: Shots
) -> None:  # type: ignore[no-untyped-def]
    clip_id = _shared_clip(
        live_app, lesson_id, "Two moments", ["Great signal for quiet.", "Try waiting longer here."]
    )
    page = browser_context().new_page()
    sign_in(page, live_app.people["ect"], f"/clips/{clip_id}")
    second = page.locator("#comments > .comment").filter(has_text="Try waiting longer here.")
    expect(second).to_be_visible()
    second.locator(".comment-jump").click()
    expect(page.get_by_label("Replying to")).to_have_value(
        second.get_attribute("data-comment-id") or ""
    )
    page.get_by_label("Your reply or reflection").fill("I will count to three next time.")
    page.get_by_role("button", name=re.compile("^Send")).click()
    expect(second.locator(".replies")).to_contain_text("I will count to three next time.")
    first = page.locator("#comments > .comment").filter(has_text="Great signal for quiet.")
    expect(first.locator(".replies")).to_have_count(0)
    shots.take(page, "review-reply")


def test_a_reflection_on_a_clip_without_comments_reads_as_a_reflection(
    live_app: LiveApp, lesson_id: str, browser_context, requests_seen: Requests, shots: Shots
) -> None:  # type: ignore[no-untyped-def]
    clip_id = _shared_clip(live_app, lesson_id, "No comments yet", [])
    page = browser_context().new_page()
    sign_in(page, live_app.people["ect"], f"/clips/{clip_id}")
    expect(page.locator("#comments")).to_contain_text("No comments yet.")
    page.get_by_label("Your reply or reflection").fill("The class settled faster than I felt.")
    page.get_by_role("button", name=re.compile("^Send")).click()
    reflection = page.locator("#comments > .comment").filter(has_text="settled faster")
    expect(reflection.locator(".kind")).to_have_text("Reflection")
    expect(reflection.locator(".at")).to_have_text("Whole clip")
    expect(page.locator("#comments")).not_to_contain_text("0:00.0")
    shots.take(page, "review-reflection")


def test_an_admin_runs_accounts_and_pairings_in_the_browser(
    live_app: LiveApp, browser_context, requests_seen: Requests, shots: Shots
) -> None:  # type: ignore[no-untyped-def]
    """The pairing list names people (not "undefined mentors undefined"); an admin adds an
    account (its password shown once), pairs it, resets its password, deactivates and unpairs."""
    page = browser_context().new_page()
    sign_in(page, live_app.people["admin"], "/admin")
    pairings = page.locator("#pairings")
    expect(pairings).to_contain_text("Morgan Mentor mentors Eli Early")
    expect(pairings).not_to_contain_text("undefined")

    page.get_by_label("Name").fill("Nia New")
    page.get_by_label("Email").fill("nia@school.example")
    page.get_by_label("Role").select_option("ect")
    page.get_by_role("button", name="Add account").click()
    expect(page.locator("#new-password")).to_contain_text("Password for nia@school.example")
    password = page.locator("#new-password code").inner_text()
    row = page.locator("#accounts tbody tr").filter(has_text="nia@school.example")
    expect(row).to_contain_text("ECT")

    page.get_by_label("Mentor", exact=True).select_option(
        label="Morgan Mentor (mentor@school.example)"
    )
    page.get_by_label("ECT", exact=True).select_option(label="Nia New (nia@school.example)")
    page.get_by_role("button", name="Pair them").click()
    expect(pairings).to_contain_text("Morgan Mentor mentors Nia New")
    shots.take(page, "admin")
    shots.take(page, "admin", phone=True)

    def can_sign_in(secret: str) -> bool:
        response = httpx.post(
            f"{live_app.url}/api/v1/auth/token",
            data={"username": "nia@school.example", "password": secret},
        )
        return response.status_code == 200

    assert can_sign_in(password)
    row.get_by_role("button", name="Reset the password of Nia New").click()
    expect(page.locator("#new-password code")).not_to_have_text(password)
    reset = page.locator("#new-password code").inner_text()
    assert can_sign_in(reset) and not can_sign_in(password)

    row.get_by_role("button", name="Deactivate Nia New").click()
    expect(row).to_contain_text("No (deactivated)")
    assert not can_sign_in(reset)
    page.get_by_role("button", name="Unpair Morgan Mentor and Nia New").click()
    expect(pairings).not_to_contain_text("Nia New")
    expect(pairings).to_contain_text("Morgan Mentor mentors Eli Early")


def test_a_failed_lesson_says_why_in_plain_words_and_can_be_retried(
    live_app: LiveApp, browser_context, requests_seen: Requests, shots: Shots, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from models.db import session_scope
    from models.lesson import Lesson, LessonStatus

    video = mediafactory.make_video(tmp_path / "cut.mp4", duration=4.0).path
    failed = store_ready_lesson(
        live_app, live_app.people["ect"], "Cut off while copying", video, SENTENCES, tmp_path
    )
    with session_scope(live_app.settings.database_url) as session:
        lesson = session.get(Lesson, failed)
        assert lesson is not None
        lesson.status, lesson.error_code = LessonStatus.failed, "unreadable_media"
        lesson.error_message = "moov atom not found"
    page = browser_context().new_page()
    sign_in(page, live_app.people["ect"])
    card = page.locator("#lessons > li").filter(has_text="Cut off while copying")
    expect(card).to_contain_text("it was probably cut off while copying")
    expect(card).not_to_contain_text("moov atom")
    shots.take(page, "home-failed-lesson")
    shots.take(page, "home-failed-lesson", phone=True)
    card.get_by_role("button", name="Retry processing Cut off while copying").click()
    expect(card).not_to_contain_text("Processing failed", timeout=30_000)
    expect(card.get_by_role("button", name=re.compile("^Retry"))).to_have_count(0)


def test_the_sign_in_page_says_what_clipcoach_is_and_sizes_read_as_people_say_them(
    live_app: LiveApp, browser_context, requests_seen: Requests, shots: Shots, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    page = browser_context().new_page()
    page.goto("/signin")
    expect(
        page.get_by_role("heading", name=re.compile("coaching for early career"))
    ).to_be_visible()
    expect(page.locator(".signin-about")).to_contain_text("never leave it")
    shots.take(page, "signin")
    shots.take(page, "signin", phone=True)
    sign_in(page, live_app.people["ect"], "/upload")
    tiny = tmp_path / "notes.mp4"
    tiny.write_bytes(b"x" * 26)
    page.locator("#file-input").set_input_files(tiny)
    expect(page.locator("#file-name")).to_have_text("notes.mp4 (26 bytes)")
    sizes = page.evaluate(
        "async () => { const { formatBytes } = await import('/static/js/api.js');"
        " return [0, 1, 999, 1000, 412000, 1300000000].map(formatBytes); }"
    )
    assert sizes == ["0 bytes", "1 byte", "999 bytes", "1.0 KB", "412 KB", "1.3 GB"]


def test_the_studio_has_one_scrubber_and_comments_on_its_timeline(
    live_app: LiveApp, lesson_id: str, browser_context, requests_seen: Requests, shots: Shots
) -> None:  # type: ignore[no-untyped-def]
    clip_id = _shared_clip(live_app, lesson_id, "Marked moments", ["First point.", "Second."])
    page = browser_context().new_page()
    _open_studio(page, live_app, lesson_id)
    assert page.evaluate("document.getElementById('video').controls") is False
    expect(page.locator("input[type=range]")).to_have_count(1)
    page.get_by_role("button", name="Play", exact=True).click()
    expect(page.get_by_role("button", name="Pause", exact=True)).to_be_visible()
    page.get_by_role("button", name="Pause", exact=True).click()

    page.locator("#lesson-clips button").filter(has_text="Marked moments").click()
    marks = page.locator("#comment-marks .comment-mark")
    expect(marks).to_have_count(2)
    second = page.get_by_role("button", name=re.compile(r"Comment at 0:03\.5: Second\."))
    second.click()  # the clip starts at 1 s; the comment is 2.5 s into it
    assert abs(page.evaluate("document.getElementById('video').currentTime") - 3.5) < 0.05
    left = [float(m.get_attribute("style").split(":")[1].strip(" %;")) for m in marks.all()]  # type: ignore[union-attr]
    assert left[0] < left[1], left
    shots.take(page, "studio-comment-marks")
    assert clip_id


@pytest.mark.parametrize("width", [390, 768], ids=["phone", "tablet"])
@pytest.mark.parametrize("where", ["studio", "review"])
def test_studio_and_review_work_on_a_phone_and_a_tablet(
    live_app: LiveApp,
    lesson_id: str,
    browser_context,
    requests_seen: Requests,
    shots: Shots,
    where: str,
    width: int,
) -> None:  # type: ignore[no-untyped-def]
    """At 390 px wide (an ECT on the bus) and on a tablet nothing runs off the side and every
    control an ECT or mentor needs there is on screen and usable."""
    clip_id = _shared_clip(live_app, lesson_id, "On the bus", ["Look at the pause."])
    context = browser_context()
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 844 if width < 700 else 1024})
    if where == "studio":
        sign_in(page, live_app.people["mentor"], f"/lessons/{lesson_id}")
        expect(page.locator("#studio")).to_be_visible()
        needed = ["Play", "Mark in I", "Mark out O", "Save clip"]
    else:
        sign_in(page, live_app.people["ect"], f"/clips/{clip_id}")
        expect(page.locator("#comments > .comment")).to_have_count(1)
        needed = ["Send reply"]
    for name in needed:
        button = page.get_by_role("button", name=name, exact=True)
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (name, box)
        assert box["height"] >= 30, (name, box)  # big enough for a thumb
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"the {where} page is {overflow} px wide at {width}"
    if width < 700:
        shots.take(page, where, phone=True)


def test_a_shared_clip_is_ready_before_the_ect_opens_it(
    live_app: LiveApp, lesson_id: str, browser_context, requests_seen: Requests, shots: Shots
) -> None:  # type: ignore[no-untyped-def]
    """Sharing renders the clip on the clips queue, so the ECT's first view plays at once: no
    "Preparing the clip…" and no 503 from the media route."""
    import time

    from models.coaching import Clip, RenderStatus
    from models.db import session_scope

    clip_id = _shared_clip(live_app, lesson_id, "Ready when opened", ["Watch the hands."])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with session_scope(live_app.settings.database_url) as session:
            clip = session.get(Clip, clip_id)
            assert clip is not None
            if clip.render_status == RenderStatus.ready:
                break
        time.sleep(0.5)
    assert clip is not None and clip.render_status == RenderStatus.ready, "sharing did not render"
    page = browser_context().new_page()
    statuses: list[int] = []
    page.on(
        "response",
        lambda r: statuses.append(r.status) if f"/clips/{clip_id}/media" in r.url else None,
    )
    sign_in(page, live_app.people["ect"], f"/clips/{clip_id}")
    page.wait_for_function("() => document.getElementById('video').readyState >= 1", timeout=15_000)
    expect(page.locator("#render-status")).to_have_text("")
    assert statuses and 503 not in statuses, statuses


def test_the_ects_feed_shows_each_clips_lesson_poster_and_strands(
    live_app: LiveApp, lesson_id: str, browser_context, requests_seen: Requests, shots: Shots
) -> None:  # type: ignore[no-untyped-def]
    clip_id = _shared_clip(live_app, lesson_id, "In the feed", ["Nice pause."])
    page = browser_context().new_page()
    sign_in(page, live_app.people["ect"])
    item = page.locator("#feed > li").filter(has=page.locator(f"a[href='/clips/{clip_id}']"))
    expect(item).to_contain_text("From the lesson “Y7 fractions”")
    expect(item).to_contain_text("1 comment")
    expect(item.locator("img.poster")).to_have_attribute("src", re.compile(r"/poster\.jpg\?token="))
    shots.take(page, "home-feed")
    shots.take(page, "home-feed", phone=True)
