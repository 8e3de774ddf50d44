"""The browser pages: HTML shells and their static files, served by the app itself.

Pages hold no business logic and no data. Each is a template naming one ES module; the module
signs in through the JSON API, keeps the bearer token in sessionStorage and calls `/api/v1` with
fetch. With no cookies there is no ambient authority for another site to ride on, so no CSRF
tokens are needed. Every response here carries a strict Content-Security-Policy (only 'self', no
inline script or style, no framing): the templates contain no inline code, and every asset,
font and icon is a file under `api/web/static`, so the app never reaches another host.

Video, captions and pictures are loaded by URL (`<video src>`, `<track src>`, CSS images) through
signed media links (`GET /api/v1/lessons/{id}/media-links`), so players stream with range
requests. With S3 storage the API redirects media to presigned URLs on the object store: its
public origin (`models.storage.public_media_origin`) is then allowed for media and images too,
and it is the only other origin the policy names.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.deps import SettingsDep
from models.settings import Settings
from models.storage import public_media_origin

WEB = Path(__file__).resolve().parent / "web"
STATIC = WEB / "static"
templates = Jinja2Templates(directory=WEB / "templates")


@functools.cache
def content_security_policy(media_origin: str | None = None, style_hashes: str = "") -> str:
    """The pages' policy; `media_origin` is the object store's, where media is redirected;
    `style_hashes` names the exact inline stylesheets a page may add (never 'unsafe-inline')."""
    media = f"'self' {media_origin}" if media_origin else "'self'"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            f"style-src 'self' {style_hashes}".strip(),
            f"img-src {media} data:",
            f"media-src {media}",
            f"connect-src {media}",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(settings: Settings, style_hashes: str = "") -> dict[str, str]:
    """Headers for every page and static file, derived from settings in this one place."""
    return {
        "Content-Security-Policy": content_security_policy(
            public_media_origin(settings.storage_url), style_hashes
        ),
        **SECURITY_HEADERS,
    }


SECURITY_HEADERS = {
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


def _page(
    request: Request, settings: Settings, template: str, title: str, **context: str
) -> HTMLResponse:
    response = templates.TemplateResponse(
        request, template, {"title": title, "script": template.removesuffix(".html"), **context}
    )
    response.headers.update(security_headers(settings))
    # Pages are shells without data, but a shared computer should not keep them either.
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The signed-in person's home: their lessons, their ECTs' lessons or accounts, by role."""
    return _page(request, settings, "home.html", "Home")


@router.get("/signin", response_class=HTMLResponse)
def signin(request: Request, settings: SettingsDep) -> HTMLResponse:
    return _page(request, settings, "signin.html", "Sign in")


@router.get("/upload", response_class=HTMLResponse)
def upload(request: Request, settings: SettingsDep) -> HTMLResponse:
    return _page(request, settings, "upload.html", "Upload a lesson")


@router.get("/lessons/{lesson_id}", response_class=HTMLResponse)
def lesson(request: Request, settings: SettingsDep, lesson_id: IdParam) -> HTMLResponse:
    """A lesson's processing status, then the clipping studio once it is ready."""
    return _page(request, settings, "studio.html", "Clipping studio", lesson_id=lesson_id)


@router.get("/model-practice", response_class=HTMLResponse)
def model_practice(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The school's library of model practice, clips shared with the caller, their own."""
    return _page(request, settings, "model_practice.html", "Model practice")


@router.get("/clips/{clip_id}", response_class=HTMLResponse)
def clip(request: Request, settings: SettingsDep, clip_id: IdParam) -> HTMLResponse:
    """Reviewing a shared clip: video with captions, strand tags, comments and replies."""
    return _page(request, settings, "review.html", "Clip review", clip_id=clip_id)


@router.get("/collections/{collection_id}", response_class=HTMLResponse)
def collection(request: Request, settings: SettingsDep, collection_id: IdParam) -> HTMLResponse:
    """A collection of clips played in order, each clip's comments beside it."""
    return _page(request, settings, "collection.html", "Collection", collection_id=collection_id)


@router.get("/progress/{user_id}", response_class=HTMLResponse)
def progress(request: Request, settings: SettingsDep, user_id: IdParam) -> HTMLResponse:
    """An ECT's evidence over their induction: a timeline, strands, talk figures, a CSV."""
    return _page(request, settings, "progress.html", "Progress", user_id=user_id)


@router.get("/progress/{user_id}/summary", response_class=HTMLResponse)
def progress_summary(request: Request, settings: SettingsDep, user_id: IdParam) -> HTMLResponse:
    """A termly summary drafted from the evidence, for the mentor to edit and print."""
    return _page(request, settings, "summary.html", "Termly summary", user_id=user_id)


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, settings: SettingsDep) -> HTMLResponse:
    """Finding words in the transcripts of the lessons one may watch, to jump to the moment."""
    return _page(request, settings, "search.html", "Search transcripts")


@router.get("/notifications", response_class=HTMLResponse)
def notifications(request: Request, settings: SettingsDep) -> HTMLResponse:
    """Everything new for the signed-in person: shares, replies, steps and observations due."""
    return _page(request, settings, "notifications.html", "Notifications")


@router.get("/batches", response_class=HTMLResponse)
def batches(request: Request, settings: SettingsDep) -> HTMLResponse:
    """A coach's batches: start one from uploads or server folders, watch it, get the zip."""
    return _page(request, settings, "batches.html", "Batch transcription")


@router.get("/batches/{batch_id}", response_class=HTMLResponse)
def batch(request: Request, settings: SettingsDep, batch_id: IdParam) -> HTMLResponse:
    """The same page with one batch open, so its address can be kept or shared with oneself."""
    return _page(request, settings, "batches.html", "Batch transcription", batch_id=batch_id)


@router.get("/admin", response_class=HTMLResponse)
def admin(request: Request, settings: SettingsDep) -> HTMLResponse:
    return _page(request, settings, "admin.html", "Accounts")


@router.get("/favicon.ico")
def favicon() -> RedirectResponse:
    return RedirectResponse("/static/icon.svg", status_code=308)


@router.get("/static/{path:path}")
def static(path: str, settings: SettingsDep) -> Response:
    """A file under api/web/static; the path must stay inside it and have a known type."""
    target = (STATIC / path).resolve()
    media_type = STATIC_TYPES.get(target.suffix)
    if not target.is_relative_to(STATIC) or media_type is None or not target.is_file():
        raise HTTPException(status_code=404, detail="Not found")
    response = FileResponse(target, media_type=media_type)
    response.headers.update(security_headers(settings))
    # No build step means no content hashes in names: let browsers revalidate every time.
    response.headers["Cache-Control"] = "no-cache"
    return response
