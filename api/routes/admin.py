"""Administration: accounts, mentor-ECT pairings and the audit log (admins only)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import CurrentUser, SessionDep, SettingsDep, StorageDep, client_of
from api.errors import CodedHTTPException, responses
from api.schemas import (
    AuditEventPublic,
    PairingCreate,
    PairingPublic,
    SchoolPolicyPublic,
    UserBrief,
    UserCreate,
    UserCreated,
    UserErased,
    UserPublic,
    UserUpdate,
)
from models import audit
from models.access import NotVisibleError, require_admin
from models.account import Pairing, Role, User
from models.accounts import (
    DuplicateEmailError,
    InvalidEmailError,
    PairingError,
    create_user,
    pair,
    set_active,
    set_password,
    set_role,
)
from models.audit import AuditEvent
from models.consent import LABELS as CONSENT_LABELS
from models.db import utcnow
from models.people import EraseRefusedError, erase, export_records

router = APIRouter(prefix="/admin", tags=["admin"])
ADMIN_ERRORS = (403,)


@router.get("/users", response_model=list[UserPublic], responses=responses(*ADMIN_ERRORS))
def list_users(user: CurrentUser, session: SessionDep, role: Role | None = None) -> list[User]:
    require_admin(user)
    stmt = select(User).order_by(User.email)
    if role is not None:
        stmt = stmt.where(User.role == role)
    return list(session.scalars(stmt))


@router.post("/users", status_code=201, response_model=UserCreated, responses=responses(403, 409))
def add_user(
    body: UserCreate, request: Request, user: CurrentUser, session: SessionDep
) -> UserCreated:
    """Create an account; without a password one is generated and returned once."""
    require_admin(user)
    try:
        created, password = create_user(session, body.email, body.name, body.role, body.password)
    except DuplicateEmailError as exc:
        raise HTTPException(409, str(exc).capitalize() + ".") from None
    except InvalidEmailError as exc:
        raise HTTPException(422, str(exc).capitalize() + ".") from None
    audit.record(
        session, user.id, "user.create", "user", created.id, client=client_of(request),
        role=created.role.value,
    )  # fmt: skip
    session.commit()
    return UserCreated.model_validate(created).model_copy(
        update={"password": None if body.password else password}
    )


@router.patch("/users/{user_id}", response_model=UserPublic, responses=responses(403, 404))
def update_user(
    user_id: str, body: UserUpdate, request: Request, user: CurrentUser, session: SessionDep
) -> User:
    require_admin(user)
    target = session.get(User, user_id)
    if target is None:
        raise NotVisibleError("user")
    changes = body.model_dump(exclude_unset=True, exclude={"password"})
    if body.name is not None:
        target.name = body.name
    if body.role is not None:
        set_role(target, body.role)
    if body.active is not None and body.active != target.active:
        set_active(target, body.active)
    if "induction_start" in body.model_fields_set:
        target.induction_start = body.induction_start
    if body.may_share_model_practice is not None:
        target.may_share_model_practice = body.may_share_model_practice
    if body.password:
        set_password(target, body.password)
        changes["password"] = "changed"  # noqa: S105 - a marker for the audit, not a secret
    audit.record(
        session, user.id, "user.update", "user", target.id, client=client_of(request),
        fields=sorted(changes),
    )  # fmt: skip
    session.commit()
    return target


ZIP: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/zip": {}}, "description": "JSON files in a zip."}
}


@router.get(
    "/users/{user_id}/export",
    response_class=Response,
    responses={**ZIP, **responses(403, 404)},
)
def export_user(user_id: str, request: Request, user: CurrentUser, session: SessionDep) -> Response:
    """Everything held about one person, as JSON files in a zip (a subject access request):
    account, lessons' metadata, clips, comments, reflections, action steps, shares, deleted
    lessons and audit events; no recordings (audited)."""
    require_admin(user)
    target = session.get(User, user_id)
    if target is None:
        raise NotVisibleError("user")
    records = export_records(session, target)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, rows in records.items():
            archive.writestr(f"{name}.json", json.dumps(rows, indent=2, ensure_ascii=False))
    audit.record(session, user.id, "user.export", "user", target.id, client=client_of(request))
    session.commit()
    stamp = utcnow().strftime("%Y%m%d")
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="clipcoach-user-{target.id}-{stamp}.zip"',
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/users/{user_id}/erase", response_model=UserErased, responses=responses(403, 404, 409)
)
def erase_user(
    user_id: str,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
) -> UserErased:
    """Erase one person: their lessons and clips deleted completely, their comments on others'
    work kept as a former colleague's, the account anonymised and signed out (audited; 409
    `erase_self` for your own account). Cannot be undone."""
    require_admin(user)
    target = session.get(User, user_id)
    if target is None:
        raise NotVisibleError("user")
    try:
        done = erase(
            session, storage, settings.data_dir, target, actor_id=user.id,
            client=client_of(request),
        )  # fmt: skip
    except EraseRefusedError as exc:
        raise CodedHTTPException(409, f"{exc} [{exc.code}]", exc.code) from None
    return UserErased(
        lessons=done.lessons,
        clips=done.clips,
        comments_kept=done.comments_kept,
        action_steps=done.action_steps,
    )


def _pairing_public(session: Session, pairing: Pairing) -> PairingPublic:
    mentor, ect = session.get(User, pairing.mentor_id), session.get(User, pairing.ect_id)
    assert mentor is not None  # noqa: S101 - pairings cascade with users
    assert ect is not None  # noqa: S101 - narrows a type the code above guarantees
    return PairingPublic(
        id=pairing.id,
        mentor=UserBrief.model_validate(mentor),
        ect=UserBrief.model_validate(ect),
        created_at=pairing.created_at,
    )


@router.get("/policy", response_model=SchoolPolicyPublic, responses=responses(*ADMIN_ERRORS))
def get_policy(user: CurrentUser, settings: SettingsDep) -> SchoolPolicyPublic:
    """The consent default, retention periods and email setting this deployment runs with."""
    require_admin(user)
    return SchoolPolicyPublic(
        consent_default=settings.consent_default,
        consent_default_label=CONSENT_LABELS[settings.consent_default],
        research_use_default=settings.research_use_default,
        retention_days=settings.retention_days,
        retention_warning_days=settings.retention_warning_days,
        retention_owner_extend_days=settings.retention_owner_extend_days,
        retention_max_days=settings.retention_max_days,
        retention_transcript_days=settings.retention_transcript_days,
        retention_share_days=settings.retention_share_days,
        email_notifications=settings.email_notifications,
    )


@router.get("/pairings", response_model=list[PairingPublic], responses=responses(*ADMIN_ERRORS))
def list_pairings(user: CurrentUser, session: SessionDep) -> list[PairingPublic]:
    require_admin(user)
    return [
        _pairing_public(session, p)
        for p in session.scalars(select(Pairing).order_by(Pairing.created_at))
    ]


@router.post(
    "/pairings", status_code=201, response_model=PairingPublic, responses=responses(403, 404)
)
def add_pairing(
    body: PairingCreate, request: Request, user: CurrentUser, session: SessionDep
) -> PairingPublic:
    """Pair a mentor with an ECT: the mentor then sees the ECT's lessons."""
    require_admin(user)
    mentor, ect = session.get(User, body.mentor_id), session.get(User, body.ect_id)
    if mentor is None:
        raise NotVisibleError("mentor")
    if ect is None:
        raise NotVisibleError("ECT")
    try:
        pairing = pair(session, mentor, ect)
    except PairingError as exc:
        raise HTTPException(422, str(exc).capitalize() + ".") from None
    audit.record(
        session, user.id, "pairing.create", "pairing", pairing.id, client=client_of(request),
        mentor_id=mentor.id, ect_id=ect.id,
    )  # fmt: skip
    session.commit()
    return _pairing_public(session, pairing)


@router.delete("/pairings/{pairing_id}", status_code=204, responses=responses(403, 404))
def remove_pairing(
    pairing_id: str, request: Request, user: CurrentUser, session: SessionDep
) -> Response:
    require_admin(user)
    pairing = session.get(Pairing, pairing_id)
    if pairing is None:
        raise NotVisibleError("pairing")
    session.delete(pairing)
    audit.record(
        session, user.id, "pairing.delete", "pairing", pairing_id, client=client_of(request)
    )
    session.commit()
    return Response(status_code=204)


@router.get("/audit", response_model=list[AuditEventPublic], responses=responses(403))
def read_audit(
    user: CurrentUser,
    session: SessionDep,
    action: str | None = None,
    actor_id: str | None = None,
    object_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> list[AuditEvent]:
    """Who viewed, downloaded, shared or revoked what, newest first."""
    require_admin(user)
    stmt = select(AuditEvent)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if actor_id:
        stmt = stmt.where(AuditEvent.actor_id == actor_id)
    if object_id:
        stmt = stmt.where(AuditEvent.object_id == object_id)
    stmt = stmt.order_by(AuditEvent.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(stmt))
