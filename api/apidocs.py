"""The interactive API docs (`/docs`, Swagger UI; `/redoc`, ReDoc), served whole by the app.

FastAPI's own pages load both from a public CDN, with no integrity check and an inline script,
on a deployment that promises to work offline. Here the assets come from the `fastapi-offline`
package (MIT; it ships swagger-ui-dist and redoc's standalone bundle as files), the pages are
templates with no inline code, and they carry the pages' Content-Security-Policy
(`api.pages.security_headers`; ReDoc's page also allows its two fixed inline stylesheets by
hash): nothing is fetched from another host. ReDoc's sidebar always shows its maker's logo from
their CDN; the policy refuses that image, and ReDoc then hides it.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

from api.deps import SettingsDep
from api.pages import security_headers, templates

ASSETS = Path(str(files("fastapi_offline") / "static"))
ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
}
"""The package's files the pages use, by name; nothing else is served from its folder."""

REDOC_STYLES = (
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' "
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='"
)
"""The two inline stylesheets ReDoc's bundle adds, allowed by hash, not 'unsafe-inline': an
empty one that styled-components then fills through the CSSOM (which CSP does not govern), and
perfect-scrollbar's fixed CSS. If the package's bundle changes them, the browser test sees the
CSP violation (tests/browser/test_api_docs_offline.py)."""

router = APIRouter(include_in_schema=False)


def _page(request: Request, settings: SettingsDep, template: str, styles: str = "") -> HTMLResponse:
    response = templates.TemplateResponse(request, template, {"openapi_url": "/openapi.json"})
    response.headers.update(security_headers(settings, styles))
    return response


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request, settings: SettingsDep) -> HTMLResponse:
    return _page(request, settings, "apidocs-swagger.html")


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request, settings: SettingsDep) -> HTMLResponse:
    """ReDoc with its search off: the search runs in a worker made from a blob: URL, which the
    policy (rightly) refuses."""
    return _page(request, settings, "apidocs-redoc.html", REDOC_STYLES)


@router.get("/docs/assets/{name}")
def asset(name: str, settings: SettingsDep) -> FileResponse:
    media_type = ASSET_TYPES.get(name)
    if media_type is None:
        raise HTTPException(status_code=404, detail="Not found")
    response = FileResponse(ASSETS / name, media_type=media_type)
    response.headers.update(security_headers(settings))
    response.headers["Cache-Control"] = "no-cache"
    return response
