"""The FastAPI application: `api.app:app` for uvicorn, `create_app()` for tests.

Routes live under /api/v1, one router per resource; the OpenAPI schema is at /openapi.json.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from api import apidocs, errors, logredaction, pages
from api.housekeeping import lifespan
from api.middleware import BodyLimitMiddleware, FiniteJSONMiddleware, SecurityHeadersMiddleware
from api.ratelimit import LoginLimiter, login_limit_storage
from api.routes import (
    action_steps,
    admin,
    auth,
    batches,
    blanks,
    clips,
    collections,
    comments,
    consent,
    exports,
    feed,
    frameworks,
    lessons,
    model_practice,
    notifications,
    progress,
    pupil_names,
    retention,
    search,
    shares,
    suggestions,
    tags,
    transcriptions,
    uploads,
)
from api.schemas import Health
from models import batch
from models.queue import CeleryQueue, TaskQueue
from models.settings import Settings, get_settings

API_PREFIX = "/api/v1"
BODY_SLACK = 1024 * 1024
"""Room for multipart headers and form fields around a recording of the maximum size."""

DESCRIPTION = """
Lesson-video coaching for early career teachers.

The story: an ECT uploads a lesson (`POST /uploads`, `PATCH /uploads/{id}` in chunks, then
`POST /lessons`); processing makes it watchable and searchable (`GET /lessons/{id}` shows the
stage and progress); their mentor clips moments (`POST /clips`), tags framework strands
(`POST /clips/{id}/tags`), comments (`POST /clips/{id}/comments`) and shares
(`POST /clips/{id}/shares`); the ECT reviews `GET /feed` and replies.

Sign in with `POST /auth/token` (OAuth2 password flow, email as username) and send the token as
`Authorization: Bearer ...`. Errors are `{"detail": ...}`; anything you may not see is 404.
"""


def login_limiter(settings: Settings) -> LoginLimiter:
    """The failed-sign-in limiter the settings describe (a fresh count when kept in memory)."""
    store, namespace = login_limit_storage(settings.rate_limit_url, settings.broker_url)
    return LoginLimiter(
        store,
        per_account=settings.sign_in_per_account,
        per_account_client=settings.sign_in_per_account_client,
        per_client=settings.sign_in_per_client,
        window_seconds=settings.sign_in_window_seconds,
        known_client_days=settings.sign_in_known_client_days,
        namespace=namespace,
    )


def create_app(task_queue: TaskQueue | None = None) -> FastAPI:
    """The app; `task_queue` is where it sends work (default: Celery, `models.queue`)."""
    settings = get_settings()
    logredaction.install()
    batch.register_visibility()
    app = FastAPI(
        title="clipcoach",
        version="1",
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,  # api.apidocs serves /docs and /redoc with no CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.login_limiter = login_limiter(settings)
    app.state.task_queue = task_queue if task_queue is not None else CeleryQueue()
    errors.install(app)
    app.add_middleware(FiniteJSONMiddleware)
    app.add_middleware(
        BodyLimitMiddleware,
        upload_limit=settings.max_upload_bytes + BODY_SLACK,
        json_limit=settings.max_json_body_bytes,
    )
    app.add_middleware(SecurityHeadersMiddleware)

    api = APIRouter(prefix=API_PREFIX)

    @api.get("/health", response_model=Health, tags=["health"])
    def health() -> Health:
        """Liveness: the app is up (no sign-in needed)."""
        return Health()

    routers = (
        auth, uploads, lessons, consent, transcriptions, search, clips, tags, comments, shares,
        feed, frameworks, action_steps, progress, retention, suggestions, exports, blanks,
        notifications, collections, pupil_names, model_practice,
    )  # fmt: skip
    for module in (*routers, batches, admin):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(pages.router)
    app.include_router(apidocs.router)
    return app


app = create_app()
