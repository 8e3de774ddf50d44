"""An ECT's progress in the pages: the mentor opens it from their home, the chart has a bar per
non-zero count, the CSV downloads, the termly summary is drafted, edited and prints clean; the
ECT sees their own; another ECT is told it does not exist."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from models.db import session_scope, utcnow
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

SENTENCES = [
    "Pens down and eyes on me, thank you.",
    "What is a third of twelve? Think first, no hands yet.",
    "Why does that work? Turn to your partner and explain how you know.",
]
SERIES = (
    "lessons", "lessons_clipped", "steps_set", "steps_practised", "steps_closed", "steps_carried",
)  # fmt: skip
TALK = ("long_wait_share", "questions_per_ten_minutes", "teacher_share")


def _token(app: LiveApp, person: Person) -> dict[str, str]:
    answer = httpx.post(
        f"{app.url}/api/v1/auth/token", data={"username": person.email, "password": PASSWORD}
    )
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _progress(app: LiveApp, person: Person) -> dict[str, Any]:
    answer = httpx.get(
        f"{app.url}/api/v1/ects/{app.people['ect'].id}/progress", headers=_token(app, person)
    )
    answer.raise_for_status()
    data: dict[str, Any] = answer.json()
    return data


@pytest.fixture(scope="module")
def history(live_app: LiveApp, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Two lessons of the ECT's, the first uploaded a half-term or more ago; a tagged clip the
    mentor shared with them and one the ECT keeps private; a closed step and a practised one."""
    from models.action_steps import ActionStep
    from models.coaching import Clip
    from models.lesson import Lesson

    work = tmp_path_factory.mktemp("progress-lessons")
    video = mediafactory.make_video(work / "lesson.mp4", duration=10.0, gop=25).path
    ect, mentor = live_app.people["ect"], live_app.people["mentor"]
    first = store_ready_lesson(live_app, ect, "Y7 fractions", video, SENTENCES, work / "a")
    later = store_ready_lesson(live_app, ect, "Y7 ratio", video, SENTENCES, work / "b")
    api, as_mentor, as_ect = (
        f"{live_app.url}/api/v1",
        _token(live_app, mentor),
        _token(live_app, ect),
    )
    start = (utcnow() - timedelta(days=400)).date().isoformat()
    admin = _token(live_app, live_app.people["admin"])
    httpx.patch(f"{api}/admin/users/{ect.id}", json={"induction_start": start}, headers=admin)

    def clip(lesson: str, title: str, who: dict[str, str]) -> str:
        body = {"lesson_id": lesson, "start": 1.0, "end": 4.0, "title": title}
        made = httpx.post(f"{api}/clips", headers=who, json=body)
        assert made.status_code == 201, made.text
        clip_id: str = made.json()["id"]
        tagged = httpx.post(f"{api}/clips/{clip_id}/tags", headers=who,
                            json={"strand_ids": ["ecf-2019:4e"]})  # fmt: skip
        assert tagged.status_code == 200, tagged.text
        return clip_id

    shared = clip(first, "Think time before hands", as_mentor)
    assert httpx.post(f"{api}/clips/{shared}/shares", json={}, headers=as_mentor).is_success
    private = clip(later, "My own look at the ratio starter", as_ect)
    target = (utcnow() + timedelta(days=7)).date().isoformat()
    steps = []
    for words in ("Wait three seconds after each question", "Narrate what you see"):
        made = httpx.post(f"{api}/action-steps", headers=as_mentor, json={
            "ect_id": ect.id, "instruction": words, "strand_ids": ["ecf-2019:4e"],
            "target_date": target,
        })  # fmt: skip
        assert made.status_code == 201, made.text
        steps.append(made.json()["id"])
    closed = httpx.post(f"{api}/action-steps/{steps[0]}/close", json={}, headers=as_mentor)
    assert closed.status_code == 200
    practised = httpx.post(f"{api}/action-steps/{steps[1]}/practised", headers=as_ect,
                           json={"note": "Narrated twice in the starter."})  # fmt: skip
    assert practised.status_code == 200, practised.text
    back = utcnow() - timedelta(days=120)  # the first lesson, its clip and step: a while ago
    with session_scope(live_app.settings.database_url) as s:
        for row in (s.get(Lesson, first), s.get(Clip, shared), s.get(ActionStep, steps[0])):
            assert row is not None
            row.created_at = back
        s.get(ActionStep, steps[0]).reviewed_at = back + timedelta(days=5)  # type: ignore[union-attr]
    assert private


def _marks(data: dict[str, Any]) -> int:
    return sum(1 for t in data["terms"] for key in SERIES if t[key] > 0)


def _check_charts(page: Page, data: dict[str, Any]) -> None:
    chart = page.locator("#timeline-chart")
    expect(chart.locator("rect.mark")).to_have_count(_marks(data))
    assert chart.locator("text.axis-label").count() == 2 * len(data["terms"])
    for metric in TALK:
        chart = page.locator(f"svg[data-metric={metric}]")
        want = sum(1 for t in data["talk"] if t[metric])
        expect(chart.locator("rect.mark")).to_have_count(want)
        expect(chart.locator("text.zero")).to_have_count(sum(t[metric] == 0 for t in data["talk"]))


def test_progress_for_the_mentor_the_ect_and_no_one_else(
    live_app: LiveApp, history: None, browser_context, requests_seen: Requests, shots: Shots
) -> None:  # type: ignore[no-untyped-def]
    ect, mentor = live_app.people["ect"], live_app.people["mentor"]
    seen = _progress(live_app, mentor)
    assert len(seen["terms"]) >= 3 and _marks(seen) >= 6  # several half-terms, not one

    page = browser_context().new_page()
    sign_in(page, mentor)
    page.get_by_role("link", name="Progress: Eli Early").click()
    page.wait_for_url(re.compile(rf"/progress/{ect.id}$"))
    expect(page.locator("#page-title")).to_have_text("Progress: Eli Early")
    expect(page.locator("#progress-note")).to_contain_text("never a score")
    _check_charts(page, seen)
    strand = page.locator(".strand-row")
    expect(strand).to_have_count(1)
    expect(strand).to_contain_text("4e")
    expect(strand).to_contain_text("1 clip")  # the ECT's private clip is not the mentor's
    expect(strand.get_by_role("link", name="Think time before hands")).to_be_visible()
    shots.take(page, "mentor-progress")
    shots.take(page, "mentor-progress", phone=True)

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    assert download.value.suggested_filename.startswith("progress-eli-early-")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    lessons = sum(int(r["value"]) for r in rows if r["measure"] == "lessons")
    assert lessons == 2 and {r["section"] for r in rows} == {"half_term", "strand", "lesson_talk"}

    page.get_by_role("link", name="Draft a termly summary").click()
    draft = page.locator("#draft")
    expect(draft).to_contain_text("Eli Early was observed in 1 lesson")
    expect(draft).to_contain_text("Eli Early practised 1 step")
    expect(draft).to_contain_text("Current focus: “Narrate what you see”")
    draft.locator("p").last.click()
    page.keyboard.press("End")
    page.keyboard.type(" Eli now plans the questions for each lesson in advance.")
    shots.take(page, "mentor-summary")
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(draft).to_contain_text("plans the questions for each lesson in advance")
    shots.take(page, "mentor-summary-print")
    page.emulate_media(media="screen")

    own = browser_context().new_page()
    sign_in(own, ect)
    own.get_by_role("link", name="Your progress").click()
    expect(own.locator("#page-title")).to_have_text("Your progress")
    mine = _progress(live_app, ect)
    _check_charts(own, mine)
    expect(own.locator(".strand-row")).to_contain_text("2 clips")  # their own reflection too
    expect(own.get_by_role("link", name="Draft a termly summary")).to_be_hidden()
    shots.take(own, "ect-progress")

    requests_seen.expected_errors.append(re.compile(r"ECT not found|404"))
    other = browser_context().new_page()
    sign_in(other, live_app.people["other_ect"])
    with other.expect_response(re.compile(rf"/api/v1/ects/{ect.id}/progress$")) as answer:
        other.goto(f"/progress/{ect.id}")
    assert answer.value.status == 404
    expect(other.locator("main .error")).to_have_text("ECT not found")
    expect(other.locator("#timeline-chart rect")).to_have_count(0)
