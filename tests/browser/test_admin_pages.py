"""The admin page's data protection parts, as a data protection officer would use them: the
school's policy as the deployment runs it, a person's data exported as a zip, and an erasure
that needs the person's email typed first and then leaves no trace of them in the lists."""

from __future__ import annotations

import json
import re
import zipfile

import pytest
from playwright.sync_api import expect

from models.account import Role
from models.accounts import create_user
from models.db import session_scope
from tests.browser.conftest import LiveApp, Requests, Shots, sign_in

pytestmark = pytest.mark.browser


def test_the_admin_reads_the_policy_exports_a_person_and_erases_a_leaver(
    live_app: LiveApp, browser_context, requests_seen: Requests, shots: Shots, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    with session_scope(live_app.settings.database_url) as session:
        leaver, _ = create_user(
            session, "leaver@school.example", "Lee Leaver", Role.ect, "a long enough password"
        )
        leaver_id = leaver.id

    page = browser_context().new_page()
    sign_in(page, live_app.people["admin"], "/admin")
    policy = page.locator("#policy")
    expect(policy).to_contain_text("Pupils' consent for a new lesson")
    expect(policy).to_contain_text("Kept until someone deletes them.")  # the default: no period
    expect(policy).to_contain_text("Off: notifications stay in clipcoach.")

    person = page.get_by_label("Person", exact=True)
    person.select_option(leaver_id)
    with page.expect_download() as download:
        page.get_by_role("button", name="Export their data (zip)").click()
    path = tmp_path / "export.zip"
    download.value.save_as(path)
    assert download.value.suggested_filename.startswith(f"clipcoach-user-{leaver_id}-")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        assert "account.json" in names, names
        assert "leaver@school.example" in json.dumps(json.loads(archive.read("account.json")))
    shots.take(page, "admin-policy-and-person")

    page.get_by_text("Erase this person").click()
    confirm = page.get_by_label("To confirm, type the address they sign in with")
    confirm.fill("someone@school.example")
    page.get_by_role("button", name="Erase", exact=True).click()
    expect(page.locator("#person-error")).to_contain_text("Type leaver@school.example to confirm")
    expect(page.locator("#accounts")).to_contain_text("Lee Leaver")  # nothing happened

    confirm.fill("leaver@school.example")
    page.get_by_role("button", name="Erase", exact=True).click()
    expect(page.locator("#toast")).to_contain_text(re.compile(r"Erased Lee Leaver: 0 lessons"))
    expect(page.locator("#accounts")).not_to_contain_text("Lee Leaver")
    expect(page.locator("#accounts")).not_to_contain_text("leaver@school.example")
    expect(person).not_to_contain_text("Lee Leaver")
    shots.take(page, "admin-after-erase")
