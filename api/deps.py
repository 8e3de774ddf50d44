"""Dependencies as `Annotated` aliases, so route signatures read like prose."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from api.errors import UNAUTHORIZED_HEADERS
from models.account import User
from models.accounts import (
    InvalidTokenError,
    TokenClaims,
    user_for_media_token,
    user_for_token,
)
from models.db import get_sessionmaker
from models.queue import TaskQueue
from models.settings import Settings, get_settings
from models.storage import Storage, shared_storage
from models.upload import PartWriter

SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_session(settings: SettingsDep) -> Iterator[Session]:
    """A session per request; routes commit what they change, anything else is rolled back."""
    session = get_sessionmaker(settings.database_url)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


def get_storage(settings: SettingsDep) -> Storage:
    return shared_storage(settings.storage_url)


StorageDep = Annotated[Storage, Depends(get_storage)]


def get_part_writer() -> PartWriter:
    """How chunks reach the upload folder; tests override it (a full disk, a slow one)."""
    return PartWriter()


PartWriterDep = Annotated[PartWriter, Depends(get_part_writer)]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


class Auth:
    """The signed-in user and the token they used (logout revokes that token)."""

    def __init__(self, user: User, claims: TokenClaims) -> None:
        self.user = user
        self.claims = claims


def _invalid(exc: InvalidTokenError) -> HTTPException:
    return HTTPException(
        401,
        str(exc).capitalize() + ".",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def get_auth(
    token: Annotated[str | None, Depends(oauth2_scheme)],
    session: SessionDep,
    settings: SettingsDep,
) -> Auth:
    if not token:
        raise HTTPException(401, "Not signed in.", headers=UNAUTHORIZED_HEADERS)
    try:
        user, claims = user_for_token(session, settings, token)
    except InvalidTokenError as exc:
        raise _invalid(exc) from None
    return Auth(user, claims)


AuthDep = Annotated[Auth, Depends(get_auth)]


def get_current_user(auth: AuthDep) -> User:
    return auth.user


CurrentUser = Annotated[User, Depends(get_current_user)]


class Viewer:
    """Who asks for a lesson's or clip's media, and whether a media link vouched for them
    (`by_link`) rather than the Authorization header. Responses to a link carry
    `Cache-Control: private, no-store`: the link is a credential in the URL, the cache key."""

    def __init__(self, user: User, link_token: str | None = None) -> None:
        self.user = user
        self.link_token = link_token

    @property
    def by_link(self) -> bool:
        return self.link_token is not None


MediaTokenParam = Annotated[
    str | None,
    Query(
        alias="token",
        description="A media token from `GET .../media-links`, for players that cannot send "
        "the Authorization header; it opens only the lesson or clip it was made for.",
    ),
]


def _viewer(
    resource: str, bearer: str | None, link: str | None, session: Session, settings: Settings
) -> Viewer:
    """The bearer header if there is one, else the media token; models.access still decides
    what the user may see (the routes ask it, as they do for the header)."""
    if bearer:
        return Viewer(get_auth(bearer, session, settings).user)
    if not link:
        raise HTTPException(401, "Not signed in.", headers=UNAUTHORIZED_HEADERS)
    try:
        user, _ = user_for_media_token(session, settings, link, resource)
    except InvalidTokenError as exc:
        raise _invalid(exc) from None
    return Viewer(user, link)


def get_lesson_viewer(
    lesson_id: str,
    bearer: Annotated[str | None, Depends(oauth2_scheme)],
    session: SessionDep,
    settings: SettingsDep,
    token: MediaTokenParam = None,
) -> Viewer:
    return _viewer(f"lesson:{lesson_id}", bearer, token, session, settings)


def get_clip_viewer(
    clip_id: str,
    bearer: Annotated[str | None, Depends(oauth2_scheme)],
    session: SessionDep,
    settings: SettingsDep,
    token: MediaTokenParam = None,
) -> Viewer:
    return _viewer(f"clip:{clip_id}", bearer, token, session, settings)


LessonViewer = Annotated[Viewer, Depends(get_lesson_viewer)]
ClipViewer = Annotated[Viewer, Depends(get_clip_viewer)]


def client_of(request: Request) -> str:
    """The client's address for rate limits and the audit log."""
    return request.client.host if request.client else ""


def get_task_queue(request: Request) -> TaskQueue:
    """The app's task queue (`create_app(task_queue=...)`; Celery unless told otherwise)."""
    tasks: TaskQueue = request.app.state.task_queue
    return tasks


TaskQueueDep = Annotated[TaskQueue, Depends(get_task_queue)]
