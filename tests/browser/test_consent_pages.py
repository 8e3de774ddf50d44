"""Consent in the browser: the owner sets it in the studio, the ECT's review shows it, and the
shared clip the ECT plays has the faces blurred (real faces: tests/data/faces, Pexels licence)."""

from __future__ import annotations

import time

import httpx
import numpy as np
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
from tests.conftest import MEDIA

pytestmark = pytest.mark.browser


def test_consent_is_set_in_the_studio_and_the_ects_review_shows_a_blurred_clip(
    live_app: LiveApp,
    browser_context,  # type: ignore[no-untyped-def]
    requests_seen: Requests,
    shots: Shots,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    work = tmp_path_factory.mktemp("consent-lesson")
    video = mediafactory.make_faces_video(work / "faces.mp4", MEDIA / "faces" / "city.jpg")
    lesson_id = store_ready_lesson(
        live_app, live_app.people["ect"], "Street crossing", video, ["Look both ways."], work / "o"
    )
    owner = browser_context().new_page()
    sign_in(owner, live_app.people["ect"], f"/lessons/{lesson_id}")
    expect(owner.locator("#lesson-consent")).to_contain_text("All pupils may appear")
    owner.get_by_label("Change consent").select_option("blur_faces")
    expect(owner.locator("#lesson-consent")).to_contain_text("faces blurred")
    shots.take(owner, "studio-consent")

    mentor = live_app.people["mentor"]
    with httpx.Client(base_url=f"{live_app.url}/api/v1", timeout=120) as api:
        token = api.post("/auth/token", data={"username": mentor.email, "password": PASSWORD})
        api.headers["Authorization"] = f"Bearer {token.raise_for_status().json()['access_token']}"
        clip = api.post("/clips", json={"lesson_id": lesson_id, "start": 0.5, "end": 3.5})
        clip_id = str(clip.raise_for_status().json()["id"])
        api.post(f"/clips/{clip_id}/shares", json={}).raise_for_status()
        for _ in range(240):  # sharing starts the (blurred) render on the clip worker
            if api.get(f"/clips/{clip_id}").json()["render_status"] == "ready":
                break
            time.sleep(0.5)

    page = browser_context().new_page()
    sign_in(page, live_app.people["ect"], f"/clips/{clip_id}")
    expect(page.locator("#clip-consent")).to_contain_text("shared clips have faces blurred")
    # the blurred clip renders on the worker first; polled from here (the page's CSP forbids
    # the in-page polling of wait_for_function)
    for _ in range(240):
        if page.evaluate("document.getElementById('video').readyState") >= 2:
            break
        page.wait_for_timeout(500)
    page.evaluate("document.getElementById('video').currentTime = 1.0")
    page.wait_for_timeout(500)
    path = shots.take(page, "review-blurred-clip", full_page=False)
    # The picture the ECT sees: the face at photo (221..254, 106..145) is smooth at 1.5 s
    # (the pan has moved it 60 px), the street below keeps its stripes.
    from PIL import Image

    assert path.exists()
    box = page.locator("#video").bounding_box()
    assert box is not None
    shot = np.asarray(Image.open(path).convert("L"), dtype=np.float64)
    x0, y0 = box["x"], box["y"]
    sx = box["width"] / mediafactory.FACES_CROP[0]
    sy = box["height"] / mediafactory.FACES_CROP[1]
    shift = 40 * 1.5
    face = shot[
        int(y0 + (106 - 40) * sy) : int(y0 + (145 - 40) * sy),
        int(x0 + (221 - shift) * sx) : int(x0 + (254 - shift) * sx),
    ]
    street = shot[int(y0 + 380 * sy) : int(y0 + 430 * sy), int(x0) : int(x0 + box["width"])]
    assert np.abs(np.diff(face, axis=1)).mean() < 0.5 * np.abs(np.diff(street, axis=1)).mean()


def test_research_use_is_set_beside_the_consent_and_the_studio_downloads_an_export(
    live_app: LiveApp,
    browser_context,  # type: ignore[no-untyped-def]
    shots: Shots,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from pympi import Elan

    work = tmp_path_factory.mktemp("research-lesson")
    video = mediafactory.make_video(work / "lesson.mp4", duration=4.0).path
    lesson_id = store_ready_lesson(
        live_app, live_app.people["ect"], "Fractions", video, ["Why is half equal?"], work / "o"
    )
    owner = browser_context().new_page()
    sign_in(owner, live_app.people["ect"], f"/lessons/{lesson_id}")
    expect(owner.locator("#lesson-research")).to_contain_text("Not for research use")
    expect(owner.locator("#research-exports")).to_be_hidden()
    owner.get_by_label("The pupils' consent covers research use").check()
    expect(owner.locator("#lesson-research")).to_contain_text("May be used for research")
    expect(owner.locator("#research-exports")).to_be_visible()
    shots.take(owner, "studio-research-use")
    with owner.expect_download() as download:
        owner.get_by_role("button", name="ELAN (.eaf)").click()
    saved = work / "export.eaf"
    download.value.save_as(saved)
    assert download.value.suggested_filename == f"{lesson_id}.eaf"
    words = Elan.Eaf(str(saved)).get_annotation_data_for_tier("words")
    assert [text for _, _, text in sorted(words)] == ["Why", "is", "half", "equal?"]
