"""The whole coaching story in a real Chromium, and an upload that survives a cut connection.

The app runs as in production (uvicorn plus a Celery worker on the filesystem broker, see
conftest.py), the sample lesson goes through the real pipeline, and every step is done through
the pages the way a person would: typing, clicking, dragging across transcript words.
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, Response, Route, expect

from models.db import session_scope
from models.lesson import Lesson
from models.upload import Upload
from tests import mediafactory
from tests.browser.conftest import LiveApp, Person, Requests, Shots, sign_in
from tests.conftest import REPO

pytestmark = pytest.mark.browser

SAMPLE = REPO / "sample_media" / "lesson.mp4"
READY_TIMEOUT = 300_000  # ms: the pipeline on 2 shared cores, transcription included
STEP_TIMEOUT = 20_000


def _token(app: LiveApp, person: Person) -> dict[str, str]:
    from tests.browser.conftest import PASSWORD

    response = httpx.post(
        f"{app.url}/api/v1/auth/token", data={"username": person.email, "password": PASSWORD}
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _upload_through_page(page: Page, file: Path, shots: Shots | None = None) -> str:
    """Pick the file on the upload page, upload it and wait until processing says ready."""
    page.goto("/upload")
    page.get_by_label("Lesson title").fill("Y7 equivalent fractions")
    page.locator("#file-input").set_input_files(file)
    expect(page.locator("#file-name")).to_contain_text(file.name)
    page.get_by_role("button", name="Upload", exact=True).click()
    if shots:
        expect(page.locator("#process-status")).not_to_be_empty(timeout=60_000)
        shots.take(page, "upload-processing")
    open_link = page.get_by_role("link", name="Open the lesson")
    expect(open_link).to_be_visible(timeout=READY_TIMEOUT)
    expect(page.locator("#process-error")).to_be_hidden()
    href = open_link.get_attribute("href")
    assert href and href.startswith("/lessons/")
    return href.removeprefix("/lessons/")


def _video_state(page: Page) -> dict[str, float]:
    return page.evaluate(
        "() => { const v = document.getElementById('video');"
        " return {t: v.currentTime, ready: v.readyState, d: v.duration}; }"
    )


def _streams_from_the_app(app: LiveApp, page: Page, media_path: str) -> str:
    """The video plays its signed URL on the app's origin (not a blob: copy of the whole file)."""
    src = page.evaluate("document.getElementById('video').currentSrc")
    assert src.startswith(f"{app.url}{media_path}?token="), src
    return str(src)


def _ranges_answered(app: LiveApp, responses: list[Response], media_path: str) -> None:
    """The browser asked for byte ranges and the server answered 206 (its own access log says
    so, with the token redacted). A clip still being rendered is 503 first, which the review
    page answers by asking again; those answers are left out."""
    media = [r for r in responses if r.url.startswith(f"{app.url}{media_path}?token=")]
    assert media, [r.url for r in responses][-20:]
    media = [r for r in media if r.status != 503]
    ranged = [r for r in media if r.request.all_headers().get("range", "").startswith("bytes=")]
    assert ranged and all(r.status == 206 for r in ranged), [(r.status, r.url) for r in media]
    deadline = time.monotonic() + 5
    pattern = re.compile(re.escape(f"GET {media_path}?token=[redacted] HTTP/1.1") + r'" 206')
    while not pattern.search(app.server_log.read_text(errors="replace")):
        assert time.monotonic() < deadline, f"no 206 for {media_path} in the server's access log"
        time.sleep(0.1)


def _no_token_in_server_log(app: LiveApp, *srcs: str) -> None:
    log = app.server_log.read_text(errors="replace")
    for src in srcs:
        token = src.split("token=", 1)[1].split("&")[0]
        assert token not in log


def _drag_select(page: Page, first: int, last: int) -> None:
    """Select transcript words first..last with the mouse, as a person would."""
    start = page.locator(f"#transcript .w[data-i='{first}']")
    end = page.locator(f"#transcript .w[data-i='{last}']")
    start.scroll_into_view_if_needed()
    a, b = start.bounding_box(), end.bounding_box()
    assert a and b
    page.mouse.move(a["x"] + 1, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move((a["x"] + b["x"]) / 2, (a["y"] + b["y"]) / 2 + 2, steps=4)
    page.mouse.move(b["x"] + b["width"] - 1, b["y"] + b["height"] / 2, steps=4)
    page.mouse.up()


def test_mentor_clips_tags_comments_shares_and_the_ect_reviews_and_replies(
    live_app: LiveApp, browser_context, requests_seen: Requests, shots: Shots
) -> None:
    ect_person, mentor_person = live_app.people["ect"], live_app.people["mentor"]
    # Pages allow only the app's own scripts, styles and media, and may not be framed.
    for path in ("/signin", "/", "/upload", "/lessons/x", "/clips/x", "/static/js/api.js"):
        headers = httpx.get(live_app.url + path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert "script-src 'self';" in headers["content-security-policy"], path
        assert headers["x-frame-options"] == "DENY", path

    # The ECT signs in and uploads the sample lesson; it is processed until ready.
    ect = browser_context().new_page()
    ect_responses: list[Response] = []
    ect.on("response", lambda r: ect_responses.append(r))
    sign_in(ect, ect_person)
    expect(ect.get_by_role("heading", name="Your lessons", exact=True)).to_be_visible()
    expect(ect.get_by_role("heading", name="Clips shared with you")).to_be_visible()
    shots.take(ect, "ect-home-empty")
    lesson_id = _upload_through_page(ect, SAMPLE, shots)
    shots.take(ect, "upload-ready")
    shots.take(ect, "upload-ready", phone=True)

    # The mentor finds the lesson on their home page and opens the studio.
    mentor = browser_context().new_page()
    mentor_responses: list[Response] = []
    mentor.on("response", lambda r: mentor_responses.append(r))
    sign_in(mentor, mentor_person)
    expect(mentor.get_by_role("heading", name="Your ECTs' lessons", exact=True)).to_be_visible()
    mentor.get_by_role("link", name="Y7 equivalent fractions").click()
    mentor.wait_for_url(f"**/lessons/{lesson_id}")
    words = mentor.locator("#transcript .w")
    expect(words.first).to_be_visible(timeout=STEP_TIMEOUT)
    assert words.count() > 100
    mentor.wait_for_function("() => document.getElementById('video').readyState >= 1")
    tracks = mentor.evaluate("[...document.getElementById('video').textTracks].map(t => t.kind)")
    assert "captions" in tracks
    # The video streams from a signed URL on the app's origin, in ranges answered with 206.
    lesson_media = f"/api/v1/lessons/{lesson_id}/media"
    studio_src = _streams_from_the_app(live_app, mentor, lesson_media)
    _ranges_answered(live_app, mentor_responses, lesson_media)
    poster = mentor.evaluate("document.getElementById('video').poster")
    assert poster.startswith(f"{live_app.url}/api/v1/lessons/{lesson_id}/poster.jpg?token=")
    expect(mentor.locator("#segments .segment").first).to_be_visible()

    # Thumbnail previews on the timeline: hovering shows a sprite tile.
    scrubber = mentor.get_by_label(re.compile("^Timeline"))
    box = scrubber.bounding_box()
    assert box
    mentor.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] / 2)
    preview = mentor.locator("#thumb-preview .thumb-image")
    expect(preview).to_be_visible()
    tile = preview.evaluate("e => e.style.backgroundImage") or ""
    assert f"/api/v1/lessons/{lesson_id}/sprite.jpg?token=" in tile, tile
    mentor.wait_for_function(
        "() => performance.getEntriesByType('resource')"
        ".some(e => e.name.includes('/sprite.jpg?token=') && e.responseStatus === 200)"
    )
    shots.take(mentor, "studio-thumbnail-preview", full_page=False)

    # Keyboard: I and O mark in and out from the playhead.
    mentor.evaluate("document.getElementById('video').currentTime = 5")
    mentor.locator("body").press("i")
    expect(mentor.locator("#in-time")).to_have_text("0:05.0")
    mentor.evaluate("document.getElementById('video').currentTime = 9")
    mentor.locator("body").press("o")
    expect(mentor.locator("#out-time")).to_have_text("0:09.0")

    # Clicking a word seeks there; the transcript follows with the current word highlighted.
    word = words.nth(40)
    word.click()
    mentor.wait_for_function(
        "() => document.querySelector('#transcript .w.current') !== null", timeout=STEP_TIMEOUT
    )
    assert _video_state(mentor)["t"] > 5
    expect(mentor.locator("#transcript .w.current")).to_have_count(1)

    # Selecting words 30..45 in the transcript sets in and out from their times.
    _drag_select(mentor, 30, 45)
    expect(mentor.locator("#range-note")).to_contain_text("16 words")
    word_start = 30
    mentor.get_by_label("Title").fill("Checking for understanding with mini whiteboards")
    shots.take(mentor, "studio-range-selected")
    mentor.get_by_role("button", name="Save clip").click()
    expect(mentor.locator("#clip-panel")).to_be_visible()
    clip_href = mentor.get_by_role("link", name="Open the clip page").get_attribute("href")
    assert clip_href
    clip_id = clip_href.removeprefix("/clips/")

    mentor_auth = _token(live_app, mentor_person)
    clip = httpx.get(f"{live_app.url}/api/v1/clips/{clip_id}", headers=mentor_auth).json()
    transcript = httpx.get(
        f"{live_app.url}/api/v1/lessons/{lesson_id}/transcript?format=json", headers=mentor_auth
    ).json()
    all_words = [w for s in transcript["segments"] for w in s["words"]]
    assert (clip["word_start"], clip["word_end"]) == (word_start, 45)
    assert clip["start"] == pytest.approx(all_words[30]["start"], abs=0.15)
    assert clip["end"] == pytest.approx(all_words[45]["end"], abs=0.15)

    # Two strands from the searchable picker.
    search = mentor.get_by_label("Search strands")
    for query in ("hinge questions", "praising"):
        search.fill(query)
        result = mentor.locator("#strand-results .result").first
        expect(result).to_contain_text(re.compile(query.split()[0], re.I))
        result.click()
    expect(mentor.locator("#clip-tags .chip")).to_have_count(2)

    # A comment pinned to the playhead: 3 s into the clip.
    mentor.evaluate(f"document.getElementById('video').currentTime = {clip['start'] + 3}")
    expect(mentor.locator("#comment-at")).to_have_text("0:03.0")
    mentor.get_by_label("Kind").select_option("strength")
    mentor.get_by_label(re.compile("^Comment at")).fill("Every board up before you moved on.")
    mentor.get_by_role("button", name="Add comment").click()
    expect(mentor.locator("#comments .comment")).to_have_count(1)

    # Share with the paired ECT until a date.
    mentor.get_by_label("Until (optional)").fill("2099-12-31")
    mentor.get_by_role("button", name="Share", exact=True).click()
    expect(mentor.locator("#shares")).to_contain_text("Shared with Eli Early")
    shots.take(mentor, "studio-clip-saved")
    shots.take(mentor, "studio-clip-saved", phone=True)

    # The ECT sees the clip in the feed and opens it.
    ect.goto("/")
    feed_link = ect.locator("#feed").get_by_role("link", name=clip["title"])
    expect(feed_link).to_be_visible()
    expect(ect.locator("#feed .chip")).to_have_count(2)
    shots.take(ect, "ect-home-feed")
    feed_link.click()
    ect.wait_for_url(f"**/clips/{clip_id}")
    ect.wait_for_function("() => document.getElementById('video').readyState >= 2", timeout=120_000)
    expect(ect.locator("#tags .chip")).to_have_count(2)

    # It plays: time advances, and a captions track with cues is there.
    ect.evaluate("() => { const v = document.getElementById('video'); v.muted = true; v.play(); }")
    ect.wait_for_function(
        "() => document.getElementById('video').currentTime > 1", timeout=STEP_TIMEOUT
    )
    captions = ect.evaluate(
        "[...document.getElementById('video').textTracks]"
        ".filter(t => t.kind === 'captions').map(t => t.cues ? t.cues.length : 0)"
    )
    assert captions and captions[0] > 0, captions
    ect.evaluate("document.getElementById('video').pause()")
    clip_media = f"/api/v1/clips/{clip_id}/media"
    review_src = _streams_from_the_app(live_app, ect, clip_media)
    _ranges_answered(live_app, ect_responses, clip_media)

    # Clicking the comment seeks to its moment.
    ect.evaluate("document.getElementById('video').currentTime = 0.2")
    ect.locator("#comments .comment-jump").first.click()
    ect.wait_for_function(
        "() => Math.abs(document.getElementById('video').currentTime - 3) < 0.5",
        timeout=STEP_TIMEOUT,
    )
    expect(ect.locator("#comments .comment.active")).to_have_count(1)

    # The ECT replies with a reflection.
    ect.get_by_label("Your reply or reflection").fill("I will wait for every board next time too.")
    ect.get_by_role("button", name="Send reply").click()
    expect(ect.locator("#comments .reply")).to_contain_text("every board next time")
    shots.take(ect, "review-replied")
    shots.take(ect, "review-replied", phone=True)

    # The mentor sees the reply on the clip page.
    mentor.goto(clip_href)
    expect(mentor.locator("#comments .reply")).to_contain_text(
        "every board next time", timeout=STEP_TIMEOUT
    )
    shots.take(mentor, "mentor-sees-reply")
    assert len(shots.taken) >= 10

    # A review left open past the links' renewal point: the page renews them and the player
    # carries on from where it was, on the new link. (The page's clock is moved on; the
    # server's expiry itself is tested in tests/api/test_media_links.py.)
    later = browser_context()
    later.clock.install()
    reviewer = later.new_page()
    later_responses: list[Response] = []
    reviewer.on("response", lambda r: later_responses.append(r))
    sign_in(reviewer, ect_person, clip_href)
    reviewer.wait_for_function(
        "() => document.getElementById('video').readyState >= 2", timeout=120_000
    )
    first_src = _streams_from_the_app(live_app, reviewer, clip_media)
    reviewer.evaluate("document.getElementById('video').currentTime = 2.5")
    reviewer.wait_for_function("() => !document.getElementById('video').seeking")
    later.clock.fast_forward("08:30")  # past 80 % of the 10-minute life of the links
    reviewer.wait_for_function(
        f"() => document.getElementById('video').currentSrc !== {first_src!r}",
        timeout=STEP_TIMEOUT,
    )
    reviewer.wait_for_function(
        "() => { const v = document.getElementById('video');"
        " return v.readyState >= 1 && !v.seeking && Math.abs(v.currentTime - 2.5) < 0.3; }",
        timeout=STEP_TIMEOUT,
    )
    renewed_src = _streams_from_the_app(live_app, reviewer, clip_media)
    assert renewed_src != first_src
    renewed = [r for r in later_responses if r.url == renewed_src]
    assert renewed and all(r.status in (200, 206) for r in renewed), renewed
    _no_token_in_server_log(live_app, studio_src, review_src, first_src, renewed_src)


def test_an_interrupted_upload_resumes_from_the_servers_offset(
    live_app: LiveApp,
    browser_context,
    requests_seen: Requests,
    shots: Shots,
    tmp_path: Path,
) -> None:
    # A short spoken lesson of its own, so processing is quick; several chunks at 256 KiB.
    mediafactory.make_speech(
        tmp_path / "speech.wav",
        ["Good morning. Today we look at ratio.", "Show me your boards please."],
        pause=1.0,
    )
    recording = tmp_path / "ratio lesson.mp4"
    mediafactory.add_video_to_audio(tmp_path / "speech.wav", recording, size=(640, 480))
    size = recording.stat().st_size
    assert size > 3 * 256 * 1024, f"want at least four chunks, the file is {size} bytes"

    page = browser_context().new_page()
    sign_in(page, live_app.people["ect"])

    # Every PATCH goes to the server as sent; the second one's answer never reaches the page,
    # as if the connection dropped just after the server stored the bytes.
    patches: list[tuple[int, int, int]] = []  # (offset sent, bytes sent, offset the server says)
    heads: list[int] = []

    def on_upload(route: Route) -> None:
        request = route.request
        if request.method == "HEAD":
            response = route.fetch()
            heads.append(int(response.headers["upload-offset"]))
            route.fulfill(response=response)
            return
        if request.method != "PATCH":
            route.continue_()
            return
        body = request.post_data_buffer or b""
        response = route.fetch()
        patches.append(
            (
                int(request.headers["upload-offset"]),
                len(body),
                int(response.headers["upload-offset"]),
            )
        )
        if len(patches) == 2:
            route.abort("connectionreset")
        else:
            route.fulfill(response=response)

    requests_seen.expected_errors.append(re.compile(r"ERR_CONNECTION_RESET.*/api/v1/uploads/"))
    page.route(re.compile(r"/api/v1/uploads/[0-9a-f]+$"), on_upload)
    started = time.monotonic()
    lesson_id = _upload_through_page(page, recording)
    shots.take(page, "resumed-upload-ready")
    shots.take(page, "resumed-upload-ready", phone=True)

    offsets = [p[0] for p in patches]
    assert len(patches) >= 4, patches
    # After the cut the page asked the server, which had the lost chunk: it went on from there.
    assert heads and heads[0] == patches[1][2] > 0, (heads, patches)
    assert offsets[2] == patches[1][2], f"resumed at {offsets[2]}, server had {patches[1][2]}"
    # No byte was sent twice: chunks start where the previous one ended and add up to the file.
    assert offsets == sorted(set(offsets)), offsets
    assert sum(p[1] for p in patches) == size, (patches, size)
    assert all(p[0] + p[1] == p[2] for p in patches), patches

    # The server's own records: the whole file, byte for byte, became the lesson.
    with session_scope(live_app.settings.database_url) as session:
        lesson = session.get(Lesson, lesson_id)
        assert lesson is not None
        assert lesson.source_size == size
        assert lesson.source_sha256 == hashlib.sha256(recording.read_bytes()).hexdigest()
        assert lesson.status.value == "ready"
        assert session.query(Upload).filter(Upload.offset < Upload.size).count() == 0
    assert time.monotonic() - started < READY_TIMEOUT / 1000


def test_a_file_that_is_not_a_recording_gets_a_clear_message(
    live_app: LiveApp, browser_context, requests_seen: Requests, shots: Shots, tmp_path: Path
) -> None:
    fake = tmp_path / "lesson.mp4"
    mediafactory.write_pdf(fake)
    page = browser_context().new_page()
    sign_in(page, live_app.people["ect"])
    page.goto("/upload")
    page.locator("#file-input").set_input_files(fake)
    requests_seen.expected_errors.append(re.compile(r"status of 415"))
    page.get_by_role("button", name="Upload", exact=True).click()
    message = page.get_by_role("alert").filter(has_text="Upload discarded")
    expect(message).to_be_visible(timeout=STEP_TIMEOUT)
    expect(page.get_by_role("button", name="Upload", exact=True)).to_be_enabled()
    shots.take(page, "not-a-recording")
    shots.take(page, "not-a-recording", phone=True)
