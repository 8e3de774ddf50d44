"""The class list cards: an ECT keeps their pupils' names on the home page, an admin the
school's on the admin page; a duplicate is refused with the API's message."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from models.db import session_scope
from models.pupilnames import list_of
from tests.browser.conftest import LiveApp, Requests, Shots, sign_in

pytestmark = pytest.mark.browser


def test_an_ect_and_an_admin_keep_their_class_lists(
    live_app: LiveApp, browser_context, requests_seen: Requests, shots: Shots
) -> None:  # type: ignore[no-untyped-def]
    requests_seen.expected_errors.append(re.compile(r"status of 409"))  # the duplicate, below
    page = browser_context().new_page()
    sign_in(page, live_app.people["ect"], "/")
    card = page.locator("#class-list")
    expect(card).to_be_visible()
    expect(card).to_contain_text("No names yet.")
    name = page.get_by_label("Pupil to add")
    for pupil in ("Aisha", "Jayden"):
        name.fill(pupil)
        page.get_by_role("button", name="Add name").click()
        expect(card.locator(".class-list-names")).to_contain_text(pupil)
    name.fill("aisha")
    page.get_by_role("button", name="Add name").click()
    expect(card.locator(".error")).to_contain_text("already on this list")
    page.get_by_role("button", name="Remove Jayden").click()
    expect(card.locator(".class-list-names")).not_to_contain_text("Jayden")
    shots.take(page, "ect-class-list")
    with session_scope(live_app.settings.database_url) as session:
        assert [n.name for n in list_of(session, live_app.people["ect"].id)] == ["Aisha"]

    admin = browser_context().new_page()
    sign_in(admin, live_app.people["admin"], "/admin")
    school = admin.locator("#class-list")
    expect(school).to_contain_text("The school's class list")
    admin.get_by_label("Pupil to add").fill("Siobhán")
    admin.get_by_role("button", name="Add name").click()
    expect(school.locator(".class-list-names")).to_contain_text("Siobhán")
    expect(school.locator(".class-list-names")).not_to_contain_text("Aisha")  # not theirs
    shots.take(admin, "admin-school-class-list")
    assert not requests_seen.unexpected_errors()
