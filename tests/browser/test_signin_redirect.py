"""After sign-in the browser goes back only to a page of this site, however `next` is spelled
(issue 21, point 8): a real Chromium signs in and the final URL's host is checked."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Browser, Request

from tests.browser.conftest import PASSWORD, LiveApp

pytestmark = pytest.mark.browser

SPELLINGS = (
    "/\\evil.example",
    "/%5Cevil.example",
    "/\tevil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "//evil.example",
    "https:evil.example",
    "https://evil.example/",
    "\\\\evil.example",
    "javascript:alert(1)",
)


def test_next_never_leaves_the_site(browser: Browser, live_app: LiveApp) -> None:
    person = next(iter(live_app.people.values()))
    host = urlsplit(live_app.url).hostname
    for spelling in (*SPELLINGS, "/upload"):
        context = browser.new_context(base_url=live_app.url)
        context.set_default_timeout(15_000)
        navigations: list[str] = []

        def seen(request: Request, into: list[str] = navigations) -> None:
            if request.is_navigation_request():
                into.append(request.url)

        context.on("request", seen)
        # nothing may leave loopback, even if the page tried
        context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/]).*"), lambda route: route.abort())
        page = context.new_page()
        # as an attacker writes the link: `%5C` stays an escape the page's parser decodes
        page.goto(f"/signin?next={quote(spelling, safe='/%:')}")
        page.get_by_label("Email").fill(person.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"^(?!.*/signin).*$"))
        page.wait_for_load_state()
        final = urlsplit(page.url)
        assert final.hostname == host, (spelling, page.url)
        assert all(urlsplit(url).hostname == host for url in navigations), (spelling, navigations)
        if spelling == "/upload":  # a page of this site is where sign-in goes back to
            assert final.path == "/upload", page.url
        context.close()
