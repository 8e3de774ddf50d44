"""Accounts: password hashing, users and pairings, signed access tokens and their revocation.

Passwords are hashed with Argon2id (pwdlib). Tokens are HS256 JWTs carrying the user id and a
unique `jti`; a token is good until it expires unless its jti is in `revoked_tokens` (logout) or
its user is deactivated. The signing key is `settings.secret_key`, or, when that is empty, a
random key generated once into `data_dir/secret_key` (mode 0600) so restarts keep sessions.

Media tokens stand in for the Authorization header where a browser cannot send one (`<video src>`,
`<track src>`, CSS images): short-lived JWTs with their own audience (so neither kind of token is
accepted as the other), scoped to one resource (`lesson:ID` or `clip:ID`) and one user, and tied
to the session token that minted them (`sid`), so signing out revokes them too. They never
expire after that session does. They grant nothing by themselves: whoever checks one still asks
models.access whether the user may see the resource, on every request.

    AccountError            base
    ├── DuplicateEmailError an account with that email exists
    ├── InvalidEmailError   not an email address (the one rule: EMAIL_PATTERN)
    ├── PairingError        the two people cannot be paired (wrong roles, same person)
    └── InvalidTokenError   expired, revoked, forged or for an inactive user
        └── WrongResourceError  a media token presented for another resource
"""

from __future__ import annotations

import functools
import os
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models.account import Pairing, RevokedToken, Role, User
from models.db import utcnow
from models.settings import Settings

ALGORITHM = "HS256"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
"""One address, one @, a dot in the domain: what the API schema and the CLI both accept."""
MEDIA_AUDIENCE = "clipcoach:media"


class AccountError(Exception):
    pass


class DuplicateEmailError(AccountError):
    pass


class InvalidEmailError(AccountError):
    pass


class PairingError(AccountError):
    pass


class InvalidTokenError(AccountError):
    pass


class WrongResourceError(InvalidTokenError):
    pass


@functools.cache
def _hasher() -> PasswordHash:
    return PasswordHash((Argon2Hasher(),))


_DUMMY_HASH: list[str] = []


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, hashed: str) -> bool:
    return _hasher().verify(password, hashed)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def create_user(
    session: Session, email: str, name: str, role: Role, password: str | None = None
) -> tuple[User, str]:
    """A new active user; returns it with its password (generated when none is given)."""
    email = normalise_email(email)
    if not re.fullmatch(EMAIL_PATTERN, email):
        raise InvalidEmailError(f"{email!r} is not an email address")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise DuplicateEmailError(f"an account for {email} already exists")
    password = password or generate_password()
    user = User(email=email, name=name.strip(), role=role, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user, password


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (same cost either way)."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(hash_password(secrets.token_hex(8)))
        verify_password(password, _DUMMY_HASH[0])  # no timing hint that the account is missing
        return None
    if not verify_password(password, user.password_hash) or not user.active:
        return None
    return user


def pair(session: Session, mentor: User, ect: User) -> Pairing:
    """Pair a mentor with an ECT (idempotent)."""
    if mentor.role != Role.mentor:
        raise PairingError(f"{mentor.email} is not a mentor")
    if ect.role != Role.ect:
        raise PairingError(f"{ect.email} is not an ECT")
    existing = session.scalar(
        select(Pairing).where(Pairing.mentor_id == mentor.id, Pairing.ect_id == ect.id)
    )
    if existing is not None:
        return existing
    pairing = Pairing(mentor_id=mentor.id, ect_id=ect.id)
    session.add(pairing)
    session.flush()
    return pairing


def set_password(user: User, password: str | None = None) -> str:
    """Give `user` a new password (generated when none is given) and return it; every earlier
    session of theirs ends."""
    password = password or generate_password()
    user.password_hash = hash_password(password)
    end_sessions(user)
    return password


def set_active(user: User, active: bool) -> None:
    """Deactivate or reactivate `user`; either way every earlier session ends (a token from
    before a deactivation must not come back to life with the account)."""
    user.active = active
    end_sessions(user)


def set_role(user: User, role: Role) -> None:
    """Change `user`'s role; sessions signed for the old role end."""
    if user.role != role:
        user.role = role
        end_sessions(user)


def end_sessions(user: User) -> None:
    """End every session token and media link `user` holds: each carries the version it was
    signed with, and only the current version is accepted."""
    user.session_version = (user.session_version or 0) + 1


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


# tokens


def secret_key(settings: Settings) -> str:
    """The token signing key: configured, or generated once into data_dir with mode 0600."""
    if settings.secret_key:
        return settings.secret_key
    return _stored_key(settings.data_dir / "secret_key")


@functools.cache
def _stored_key(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race; use its key
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: datetime


def issue_token(settings: Settings, user: User, now: datetime | None = None) -> IssuedToken:
    now = now or utcnow()
    expires = now + timedelta(minutes=settings.token_ttl_minutes)
    jti = uuid.uuid4().hex
    claims = {
        "sub": user.id, "jti": jti, "iat": now, "exp": expires, "role": user.role.value,
        "ver": user.session_version or 0,
    }  # fmt: skip
    token = jwt.encode(claims, secret_key(settings), algorithm=ALGORITHM)
    return IssuedToken(token, jti, expires)


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    jti: str
    expires_at: datetime
    version: int = 0
    """The user's session version when the token was signed (see `end_sessions`)."""


def decode_token(settings: Settings, token: str) -> TokenClaims:
    """The claims of a valid, unexpired token; InvalidTokenError otherwise (not revocation)."""
    try:
        claims = jwt.decode(
            token,
            secret_key(settings),
            algorithms=[ALGORITHM],
            options={"require": ["sub", "jti", "exp", "ver"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidTokenError("the token has expired; sign in again") from None
    except jwt.PyJWTError:
        raise InvalidTokenError("the token is not valid; sign in again") from None
    return TokenClaims(
        user_id=str(claims["sub"]),
        jti=str(claims["jti"]),
        expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        version=int(claims["ver"]),
    )


def _check_current(user: User | None, version: int) -> User:
    """The user, if active and the token was signed with their current session version."""
    if user is None or not user.active:
        raise InvalidTokenError("the account is not active")
    if version != (user.session_version or 0):
        raise InvalidTokenError("the session ended when the account was changed; sign in again")
    return user


def user_for_token(session: Session, settings: Settings, token: str) -> tuple[User, TokenClaims]:
    """The active user a token speaks for; InvalidTokenError if expired, revoked or unknown."""
    claims = decode_token(settings, token)
    if session.get(RevokedToken, claims.jti) is not None:
        raise InvalidTokenError("the token was revoked (signed out); sign in again")
    return _check_current(session.get(User, claims.user_id), claims.version), claims


def issue_media_token(
    settings: Settings,
    session_claims: TokenClaims,
    resource: str,
    now: datetime | None = None,
) -> IssuedToken:
    """A media token for `resource` (`lesson:ID` or `clip:ID`), minted from a signed-in session.

    It lasts `media_token_ttl_seconds`, never beyond the session token it came from.
    """
    now = now or utcnow()
    expires = min(
        now + timedelta(seconds=settings.media_token_ttl_seconds), session_claims.expires_at
    )
    jti = uuid.uuid4().hex
    claims = {
        "sub": session_claims.user_id,
        "sid": session_claims.jti,
        "ver": session_claims.version,
        "res": resource,
        "aud": MEDIA_AUDIENCE,
        "jti": jti,
        "iat": now,
        "exp": expires,
    }
    token = jwt.encode(claims, secret_key(settings), algorithm=ALGORITHM)
    return IssuedToken(token, jti, expires)


def user_for_media_token(
    session: Session, settings: Settings, token: str, resource: str
) -> tuple[User, TokenClaims]:
    """The active user a media token speaks for, if it is for exactly `resource`.

    InvalidTokenError when it is expired, forged, not a media token, minted by a session that
    has been revoked, or for an inactive user; WrongResourceError when it is for another resource.
    """
    try:
        claims = jwt.decode(
            token,
            secret_key(settings),
            algorithms=[ALGORITHM],
            audience=MEDIA_AUDIENCE,
            options={"require": ["sub", "sid", "ver", "res", "aud", "exp"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidTokenError("the media link has expired; reload the page") from None
    except jwt.PyJWTError:
        raise InvalidTokenError("the media link is not valid") from None
    if claims["res"] != resource:
        raise WrongResourceError("the media link is for something else")
    if session.get(RevokedToken, str(claims["sid"])) is not None:
        raise InvalidTokenError("the media link's session was signed out; sign in again")
    version = int(claims["ver"])
    user = _check_current(session.get(User, str(claims["sub"])), version)
    return user, TokenClaims(
        user_id=user.id,
        jti=str(claims["sid"]),
        expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        version=version,
    )


def revoke_token(session: Session, claims: TokenClaims) -> None:
    """Revoke one token; rows of tokens that have expired anyway are cleared on the way."""
    session.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
    if session.get(RevokedToken, claims.jti) is None:
        session.add(
            RevokedToken(jti=claims.jti, user_id=claims.user_id, expires_at=claims.expires_at)
        )


# first run

DEMO_USERS = (
    ("admin@clipcoach.local", "Demo Admin", Role.admin),
    ("mentor@clipcoach.local", "Demo Mentor", Role.mentor),
    ("ect@clipcoach.local", "Demo ECT", Role.ect),
)


def seed_demo(session: Session) -> list[tuple[str, Role, str]]:
    """On an empty database, create a demo admin, mentor and ECT (paired); return credentials.

    Returns an empty list when any account exists, so it is safe to call on every start.
    """
    if session.scalar(select(func.count()).select_from(User)):
        return []
    created = []
    users = {}
    for email, name, role in DEMO_USERS:
        user, password = create_user(session, email, name, role)
        users[role] = user
        created.append((email, role, password))
    pair(session, users[Role.mentor], users[Role.ect])
    return created
