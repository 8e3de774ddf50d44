"""Model practice: clips of a teacher's own lesson shown to ECTs, groups of ECTs, and the
school's library (models/model_practice.py; api/services/model_practice.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from api.deps import CurrentUser, SessionDep, StorageDep, TaskQueueDep, client_of
from api.errors import responses
from api.schemas import (
    EctGroupCreate,
    EctGroupMembers,
    EctGroupPublic,
    EctGroupUpdate,
    ModelClipMark,
    ModelClipPublic,
    ModelShareCreate,
    ModelSharePublic,
)
from api.services import model_practice as practice
from models import audit
from models.access import visible_clip
from models.account import Role
from models.model_practice import EctGroup

router = APIRouter(tags=["model practice"])
M = "/clips/{clip_id}"


@router.get("/model-clips", response_model=list[ModelClipPublic], responses=responses())
def list_model_clips(
    user: CurrentUser,
    session: SessionDep,
    scope: Literal["all", "library", "shared", "mine"] = "all",
    strand_id: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> list[ModelClipPublic]:
    """Model practice you may watch: the school's library, clips shared with you or your groups,
    and your own; filter by a framework strand (`strand_id`, e.g. `ecf-2019:4e`) or words. An
    admin sees every marked clip's record (to publish it), never the recording."""
    return practice.model_clips(session, user, scope=scope, strand_id=strand_id, q=q)


@router.put(f"{M}/model", response_model=ModelClipPublic, responses=responses(403, 404, 409))
def mark_model_clip(
    clip_id: str, body: ModelClipMark, request: Request, user: CurrentUser, session: SessionDep
) -> ModelClipPublic:
    """Mark a clip of your own lesson as model practice: your recorded consent to it being shown
    to the ECTs you share it with and, if an admin publishes it, in the school's library.
    Refused (409 `model_ect_lesson`) for any clip of an ECT's lesson."""
    clip = visible_clip(session, user, clip_id)
    practice.mark(session, user, clip, body.note, client_of(request))
    return practice.one_model_clip(session, user, clip)


@router.delete(f"{M}/model", status_code=204, responses=responses(403, 404, 409))
def unmark_model_clip(
    clip_id: str, request: Request, user: CurrentUser, session: SessionDep
) -> None:
    """Withdraw your consent: every model share and the library entry end at once."""
    clip = visible_clip(session, user, clip_id)
    practice.unmark(session, user, clip, client_of(request))


@router.get(
    f"{M}/model-shares", response_model=list[ModelSharePublic], responses=responses(403, 404, 409)
)
def list_model_shares(
    clip_id: str, user: CurrentUser, session: SessionDep
) -> list[ModelSharePublic]:
    clip = visible_clip(session, user, clip_id)
    return practice.shares_of(session, user, clip)


@router.post(
    f"{M}/model-shares",
    status_code=201,
    response_model=ModelSharePublic,
    responses=responses(403, 404, 409),
)
def share_model_clip(
    clip_id: str,
    body: ModelShareCreate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    tasks: TaskQueueDep,
) -> ModelSharePublic:
    """Share your model clip with one of your paired ECTs or with a group of ECTs (its members
    at any time see it, until revoked)."""
    clip = visible_clip(session, user, clip_id)
    made = practice.share(
        session, storage, tasks, user, clip, (body.ect_id, body.group_id), client_of(request)
    )
    return practice.share_public(session, made)


@router.delete(
    f"{M}/model-shares/{{model_share_id}}", status_code=204, responses=responses(403, 404, 409)
)
def revoke_model_share(
    clip_id: str, model_share_id: str, request: Request, user: CurrentUser, session: SessionDep
) -> None:
    clip = visible_clip(session, user, clip_id)
    practice.revoke(session, user, clip, model_share_id, client_of(request))


@router.put(f"{M}/library", response_model=ModelClipPublic, responses=responses(403, 404, 409))
def publish_model_clip(
    clip_id: str,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    tasks: TaskQueueDep,
) -> ModelClipPublic:
    """Publish a model clip to the school's library (admins). Its teacher must have marked it
    model practice (409 `model_no_owner_consent` otherwise): that mark is their consent."""
    if user.role != Role.admin:
        visible_clip(session, user, clip_id)  # 404 before 403 for what one cannot see
    practice.publish(session, storage, tasks, user, clip_id, client_of(request))
    clip = practice.admin_model_clip(session, user, clip_id)[0]
    return practice.one_model_clip(session, user, clip)


@router.delete(f"{M}/library", status_code=204, responses=responses(403, 404, 409))
def withdraw_model_clip(
    clip_id: str, request: Request, user: CurrentUser, session: SessionDep
) -> None:
    """Take a clip out of the school's library (admins); its teacher's own shares stay."""
    if user.role != Role.admin:
        visible_clip(session, user, clip_id)
    practice.withdraw(session, user, clip_id, client_of(request))


# ECT groups

G = "/ect-groups/{group_id}"


@router.post(
    "/ect-groups", status_code=201, response_model=EctGroupPublic, responses=responses(403)
)
def create_group(
    body: EctGroupCreate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    response: Response,
) -> EctGroupPublic:
    """A named group of ECTs to share model practice with (mentors and admins; an admin's
    group is school-wide: every mentor may share with it)."""
    practice.require_group_maker(user)
    group = EctGroup(owner_id=user.id, name=body.name.strip())
    session.add(group)
    session.flush()
    practice.set_members(session, group, body.ect_ids)
    audit.record(
        session, user.id, "group.create", "ect_group", group.id, client=client_of(request),
        ect_ids=body.ect_ids,
    )  # fmt: skip
    session.commit()
    response.headers["Location"] = f"/api/v1/ect-groups/{group.id}"
    return practice.group_public(session, group)


@router.get("/ect-groups", response_model=list[EctGroupPublic], responses=responses())
def list_groups(user: CurrentUser, session: SessionDep) -> list[EctGroupPublic]:
    rows = session.scalars(
        select(EctGroup).where(practice.group_filter(user)).order_by(EctGroup.name, EctGroup.id)
    )
    return [practice.group_public(session, g) for g in rows]


@router.get(G, response_model=EctGroupPublic, responses=responses(404))
def get_group(group_id: str, user: CurrentUser, session: SessionDep) -> EctGroupPublic:
    return practice.group_public(session, practice.visible_group(session, user, group_id))


@router.patch(G, response_model=EctGroupPublic, responses=responses(403, 404))
def rename_group(
    group_id: str, body: EctGroupUpdate, user: CurrentUser, session: SessionDep
) -> EctGroupPublic:
    group = practice.visible_group(session, user, group_id)
    practice.require_group_owner(user, group)
    group.name = body.name.strip()
    session.commit()
    return practice.group_public(session, group)


@router.put(f"{G}/members", response_model=EctGroupPublic, responses=responses(403, 404))
def set_group_members(
    group_id: str,
    body: EctGroupMembers,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
) -> EctGroupPublic:
    """Replace the members: one who leaves stops seeing the group's model clips at once."""
    group = practice.visible_group(session, user, group_id)
    practice.require_group_owner(user, group)
    practice.set_members(session, group, body.ect_ids)
    audit.record(
        session, user.id, "group.members", "ect_group", group.id, client=client_of(request),
        ect_ids=body.ect_ids,
    )  # fmt: skip
    session.commit()
    return practice.group_public(session, group)


@router.delete(G, status_code=204, responses=responses(403, 404))
def delete_group(group_id: str, request: Request, user: CurrentUser, session: SessionDep) -> None:
    """Delete the group; what was shared with it is no longer shown to its members."""
    group = practice.visible_group(session, user, group_id)
    practice.require_group_owner(user, group)
    session.delete(group)
    audit.record(session, user.id, "group.delete", "ect_group", group_id, client=client_of(request))
    session.commit()
