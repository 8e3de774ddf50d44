"""The browser pages: HTML shells and their static files, served by the app itself.

Pages hold no business logic and no data. Each is a template naming one ES module; the module
signs in through the JSON API, keeps the bearer token in sessionStorage and calls `/api/v1` with
fetch. With no cookies there is no ambient authority for another site to ride on, so no CSRF
tokens are needed. Every response here carries a strict Content-Security-Policy (only 'self', no
inline script or style, no framing): the templates contain no inline code, and every asset,
font and icon is a file under `api/web/static`, so the app never reaches another host.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

WEB = Path(__file__).resolve().parent / "web"
STATIC = WEB / "static"
templates = Jinja2Templates(directory=WEB / "templates")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # Sprite thumbnails and fetched media are shown through blob: URLs made by the page.
        "img-src 'self' blob: data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# Types the static folder holds; anything else is refused rather than guessed.
STATIC_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}

router = APIRouter(include_in_schema=False)

IdParam = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


def _page(request: Request, template: str, title: str, **context: str) -> HTMLResponse:
    response = templates.TemplateResponse(
        request, template, {"title": title, "script": template.removesuffix(".html"), **context}
    )
    response.headers.update(SECURITY_HEADERS)
    # Pages are shells without data, but a shared computer should not keep them either.
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    """The signed-in person's home: their lessons, their ECTs' lessons or accounts, by role."""
    return _page(request, "home.html", "Home")


@router.get("/signin", response_class=HTMLResponse)
def signin(request: Request) -> HTMLResponse:
    return _page(request, "signin.html", "Sign in")


@router.get("/upload", response_class=HTMLResponse)
def upload(request: Request) -> HTMLResponse:
    return _page(request, "upload.html", "Upload a lesson")


@router.get("/lessons/{lesson_id}", response_class=HTMLResponse)
def lesson(request: Request, lesson_id: IdParam) -> HTMLResponse:
    """A lesson's processing status, then the clipping studio once it is ready."""
    return _page(request, "studio.html", "Clipping studio", lesson_id=lesson_id)


@router.get("/clips/{clip_id}", response_class=HTMLResponse)
def clip(request: Request, clip_id: IdParam) -> HTMLResponse:
    """Reviewing a shared clip: video with captions, strand tags, comments and replies."""
    return _page(request, "review.html", "Clip review", clip_id=clip_id)


@router.get("/admin", response_class=HTMLResponse)
def admin(request: Request) -> HTMLResponse:
    return _page(request, "admin.html", "Accounts")


@router.get("/favicon.ico")
def favicon() -> RedirectResponse:
    return RedirectResponse("/static/icon.svg", status_code=308)


@router.get("/static/{path:path}")
def static(path: str) -> Response:
    """A file under api/web/static; the path must stay inside it and have a known type."""
    target = (STATIC / path).resolve()
    media_type = STATIC_TYPES.get(target.suffix)
    if not target.is_relative_to(STATIC) or media_type is None or not target.is_file():
        raise HTTPException(status_code=404, detail="Not found")
    response = FileResponse(target, media_type=media_type)
    response.headers.update(SECURITY_HEADERS)
    # No build step means no content hashes in names: let browsers revalidate every time.
    response.headers["Cache-Control"] = "no-cache"
    return response
