"""/docs and /redoc load nothing from another host, under the pages' own policy (issue 21,
point 12): every script, stylesheet and icon they name is on this origin and answers 200 with
its type."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from tests.api.conftest import World

TYPES = {"script": "text/javascript", "stylesheet": "text/css", "icon": "image/svg+xml"}


class Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            if a.get("src"):
                self.found.append(("script", a["src"] or ""))
            else:
                self.inline_scripts += 1
        if tag == "link" and a.get("href"):
            self.found.append((a.get("rel") or "", a["href"] or ""))
        if tag == "style":
            self.found.append(("inline style", ""))


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_docs_are_served_from_the_app_under_the_pages_policy(world: World, page: str) -> None:
    r = world.client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    policy = r.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "style-src 'self'" in policy, policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "http" not in policy
    parsed = Assets()
    parsed.feed(r.text)
    assert parsed.inline_scripts == 0
    kinds = {kind for kind, _ in parsed.found}
    assert "script" in kinds and "inline style" not in kinds, parsed.found
    for kind, url in parsed.found:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and url.startswith("/"), (page, url)
        asset = world.client.get(url)
        assert asset.status_code == 200, (page, url)
        assert asset.headers["content-type"].startswith(TYPES[kind]), (url, asset.headers)
        assert "unsafe-inline" not in asset.headers["content-security-policy"]
        assert asset.content, url


def test_the_docs_assets_route_serves_only_the_named_files(world: World) -> None:
    for name in ("../__init__.py", "core.py", "favicon.png", "%2e%2e%2fcore.py"):
        assert world.client.get(f"/docs/assets/{name}").status_code == 404, name
