"""Dependencies as `Annotated` aliases, so route signatures read like prose."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from api.errors import UNAUTHORIZED_HEADERS
from models.account import User
from models.accounts import InvalidTokenError, TokenClaims, user_for_token
from models.db import get_sessionmaker
from models.settings import Settings, get_settings
from models.storage import Storage, open_storage

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


@functools.cache
def _storage(url: str) -> Storage:
    return open_storage(url)


def get_storage(settings: SettingsDep) -> Storage:
    return _storage(settings.storage_url)


StorageDep = Annotated[Storage, Depends(get_storage)]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


class Auth:
    """The signed-in user and the token they used (logout revokes that token)."""

    def __init__(self, user: User, claims: TokenClaims) -> None:
        self.user = user
        self.claims = claims


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
        raise HTTPException(
            401,
            str(exc).capitalize() + ".",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None
    return Auth(user, claims)


AuthDep = Annotated[Auth, Depends(get_auth)]


def get_current_user(auth: AuthDep) -> User:
    return auth.user


CurrentUser = Annotated[User, Depends(get_current_user)]


def client_of(request: Request) -> str:
    """The client's address for rate limits and the audit log."""
    return request.client.host if request.client else ""
