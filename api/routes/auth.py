"""Signing in (OAuth2 password flow), signing out (revoking the token), and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import or_, select

from api.deps import AuthDep, CurrentUser, SessionDep, SettingsDep, client_of
from api.errors import UNAUTHORIZED_HEADERS, CodedHTTPException, public_responses, responses
from api.ratelimit import Limited
from api.schemas import MePublic, TokenOut, UserBrief
from models import audit
from models.account import Pairing, User
from models.accounts import authenticate, issue_token, normalise_email, revoke_token

router = APIRouter(prefix="/auth", tags=["auth"])

SIGN_IN_WAIT = {
    Limited.account: "Too many failed sign-ins for this account; try again in {seconds} seconds.",
    Limited.client: "Too many failed sign-ins from this network; try again in {seconds} seconds.",
}


@router.post("/token", response_model=TokenOut, responses=public_responses(401, 429))
def sign_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> TokenOut:
    """Exchange email (as `username`) and password for a bearer token."""
    limiter = request.app.state.login_limiter
    email, client = normalise_email(form.username), client_of(request)
    wait = limiter.retry_after(email, client)
    if wait is not None:
        raise CodedHTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            SIGN_IN_WAIT[wait.limit].format(seconds=wait.seconds),
            wait.limit.value,
            headers={"Retry-After": str(wait.seconds)},
        )
    user = authenticate(session, email, form.password)
    if user is None:
        limiter.failed(email, client)
        audit.record(session, None, audit.FAILED_SIGN_IN, "user", email[:64], client=client)
        session.commit()
        raise HTTPException(401, "Wrong email or password.", headers=UNAUTHORIZED_HEADERS)
    limiter.succeeded(email, client)
    issued = issue_token(settings, user)
    audit.record(session, user.id, "auth.sign_in", "user", user.id, client=client)
    session.commit()
    return TokenOut(access_token=issued.token, expires_at=issued.expires_at)


@router.post("/logout", status_code=204, responses=responses())
def sign_out(auth: AuthDep, request: Request, session: SessionDep) -> None:
    """Revoke the token used for this request; it stops working at once."""
    revoke_token(session, auth.claims)
    audit.record(
        session, auth.user.id, "auth.sign_out", "user", auth.user.id, client=client_of(request)
    )
    session.commit()


@router.get("/me", response_model=MePublic, responses=responses())
def me(user: CurrentUser, session: SessionDep) -> MePublic:
    """The signed-in account, with the people it is paired with."""
    partner = select(User).join(
        Pairing,
        or_(
            (Pairing.ect_id == User.id) & (Pairing.mentor_id == user.id),
            (Pairing.mentor_id == User.id) & (Pairing.ect_id == user.id),
        ),
    )
    paired = [UserBrief.model_validate(u) for u in session.scalars(partner.order_by(User.name))]
    return MePublic.model_validate(user).model_copy(update={"paired_with": paired})
