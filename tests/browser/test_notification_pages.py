"""The bell in the header and the notifications page: the ECT's unread count for a clip shared
with them, their mentor's comment on their lesson and an action step due tomorrow; following one
marks it read; a withdrawn share disappears; another ECT is told nothing."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import expect

from tests import mediafactory
from tests.browser.conftest import PASSWORD, LiveApp, Person, Shots, sign_in, store_ready_lesson

pytestmark = pytest.mark.browser

SENTENCES = ["Eyes on me, thank you.", "What is a quarter of twenty? Think first, no hands."]


@contextlib.contextmanager
def _api(app: LiveApp, person: Person) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{app.url}/api/v1", timeout=60) as client:
        token = client.post("/auth/token", data={"username": person.email, "password": PASSWORD})
        access = token.raise_for_status().json()["access_token"]
        client.headers["Authorization"] = f"Bearer {access}"
        yield client


def test_badge_counts_and_the_list_follow_what_happens(
    live_app: LiveApp, browser_context, shots: Shots, tmp_path_factory: pytest.TempPathFactory
) -> None:  # type: ignore[no-untyped-def]
    work = tmp_path_factory.mktemp("notified-lesson")
    video = mediafactory.make_video(work / "lesson.mp4", duration=5.0, gop=25).path
    ect_person = live_app.people["ect"]
    lesson_id = store_ready_lesson(live_app, ect_person, "Y5 fractions", video, SENTENCES, work)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    with _api(live_app, live_app.people["mentor"]) as mentor:
        clip = mentor.post(
            "/clips",
            json={"lesson_id": lesson_id, "start": 0.5, "end": 3.5, "title": "Think time"},
        )
        clip_id = str(clip.raise_for_status().json()["id"])
        share = mentor.post(f"/clips/{clip_id}/shares", json={}).raise_for_status().json()
        mentor.post(
            f"/lessons/{lesson_id}/comments",
            json={"at": 2.0, "body": "Lovely calm start to the lesson."},
        ).raise_for_status()
        mentor.post(
            "/action-steps",
            json={
                "ect_id": ect_person.id,
                "instruction": "Count to three in your head before taking an answer.",
                "strand_ids": ["ecf-2019:4e"],
                "target_date": tomorrow,
            },
        ).raise_for_status()

    page = browser_context().new_page()
    sign_in(page, ect_person)
    bell = page.locator("#bell-button")
    expect(page.locator("#bell-count")).to_have_text("3")
    expect(bell).to_have_attribute("aria-label", "Notifications, 3 unread")
    bell.click()
    panel = page.locator("#bell-panel")
    expect(panel).to_be_visible()
    rows = panel.locator(".nt-item.unread")
    expect(rows).to_have_count(3)
    expect(panel).to_contain_text("Morgan Mentor shared a clip with you")
    expect(panel).to_contain_text("“Think time”")
    expect(panel).to_contain_text("Morgan Mentor commented on your lesson")
    expect(panel).to_contain_text("“Lovely calm start to the lesson.” · Y5 fractions")
    expect(panel).to_contain_text("Your action step is due soon")
    shots.take(page, "bell-open", full_page=False)
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()

    page.goto("/notifications")
    expect(page.locator("#notices-list .nt-item")).to_have_count(3)
    expect(page.locator("#notices-status")).to_have_text("3 unread.")
    page.get_by_role("button", name=re.compile("^Action steps")).click()
    expect(page.locator("#notices-list .nt-item")).to_have_count(1)
    page.get_by_role("button", name=re.compile("^All")).click()
    shots.take(page, "list")
    shots.take(page, "list", phone=True)

    # following the share opens the clip and marks it read
    page.locator("#notices-list a", has_text="shared a clip").click()
    page.wait_for_url(f"**/clips/{clip_id}")
    expect(page.locator("#bell-count")).to_have_text("2")

    # the mentor withdraws the share: it is no longer listed at all
    with _api(live_app, live_app.people["mentor"]) as mentor:
        mentor.delete(f"/clips/{clip_id}/shares/{share['id']}").raise_for_status()
    page.goto("/notifications")
    expect(page.locator("#notices-list .nt-item")).to_have_count(2)
    expect(page.locator("#notices-list")).not_to_contain_text("shared a clip")
    page.get_by_role("button", name="Mark all read").click()
    expect(page.locator("#notices-status")).to_have_text("All read.")
    expect(page.locator("#bell-count")).to_be_hidden()
    expect(page.locator("#notices-list .nt-item.unread")).to_have_count(0)

    other = browser_context().new_page()
    sign_in(other, live_app.people["other_ect"], "/notifications")
    expect(other.locator("#notices-status")).to_contain_text("Nothing yet")
    expect(other.locator("#bell-count")).to_be_hidden()
