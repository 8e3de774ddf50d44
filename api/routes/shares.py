"""Shares of a clip: a mentor shares with the ECT whose lesson it is, an ECT shares a
reflection with their mentors; both until a date or until revoked (the work is in
`api.services.shares`)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request

from api.deps import CurrentUser, SessionDep, StorageDep, TaskQueueDep, client_of
from api.errors import responses
from api.schemas import ShareCreate, SharePublic
from api.services.clips import render_for_recipient
from api.services.shares import (
    check_consent,
    clip_shares,
    future,
    revoke,
    share_public,
    share_with,
)
from models.access import (
    mentor_ids,
    require_clip_coaching,
    require_lesson_content,
    require_mentor_share,
    require_reflection_owner,
    visible_clip,
)
from models.lesson import Lesson

router = APIRouter(prefix="/clips", tags=["clips"])


@router.get("/{clip_id}/shares", response_model=list[SharePublic], responses=responses(403, 404))
def list_shares(clip_id: str, user: CurrentUser, session: SessionDep) -> list[SharePublic]:
    clip = visible_clip(session, user, clip_id)
    require_clip_coaching(session, user, clip, "see a clip's shares")
    return clip_shares(session, clip)


@router.post(
    "/{clip_id}/shares",
    status_code=201,
    response_model=SharePublic,
    responses=responses(403, 404, 409),
)
def share_clip(
    clip_id: str,
    body: ShareCreate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    tasks: TaskQueueDep,
) -> SharePublic:
    """Share the clip with the ECT whose lesson it is, until a date or until revoked."""
    clip = visible_clip(session, user, clip_id)
    require_clip_coaching(session, user, clip, "share clips")
    require_mentor_share(session, clip)
    lesson = session.get(Lesson, clip.lesson_id)
    assert lesson is not None  # noqa: S101 - coaching implies a lesson with an ECT owner
    assert lesson.owner_id is not None  # noqa: S101 - narrows a type the code above guarantees
    require_lesson_content(user, lesson)
    check_consent(lesson)
    share = share_with(session, user, clip, lesson.owner_id, future(body.until), client_of(request))
    session.commit()
    render_for_recipient(session, storage, tasks, clip)
    return share_public(session, share)


@router.post(
    "/{clip_id}/share-with-mentor",
    status_code=201,
    response_model=list[SharePublic],
    responses=responses(403, 404, 409),
)
def share_with_mentor(
    clip_id: str,
    body: ShareCreate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    tasks: TaskQueueDep,
) -> list[SharePublic]:
    """Share your own clip of your own lesson (and its note, tags and comments) with the
    mentors you are paired with; until then it is private to you. Revoke each share as usual."""
    clip = visible_clip(session, user, clip_id)
    require_reflection_owner(session, user, clip)
    mentors = mentor_ids(session, user.id)
    if not mentors:
        raise HTTPException(409, "You have no mentor yet: ask your induction lead to pair you.")
    lesson = session.get(Lesson, clip.lesson_id)
    assert lesson is not None  # noqa: S101 - a reflection has its lesson (foreign key)
    check_consent(lesson)
    until, client = future(body.until), client_of(request)
    shares = [share_with(session, user, clip, m, until, client) for m in mentors]
    session.commit()
    render_for_recipient(session, storage, tasks, clip)
    return [share_public(session, s) for s in shares]


@router.delete("/{clip_id}/shares/{share_id}", status_code=204, responses=responses(403, 404, 409))
def revoke_share(
    clip_id: str, share_id: str, request: Request, user: CurrentUser, session: SessionDep
) -> None:
    """Revoke a share: the clip leaves the ECT's feed at once."""
    clip = visible_clip(session, user, clip_id)
    require_clip_coaching(session, user, clip, "revoke shares")
    revoke(session, user, clip, share_id, client_of(request))
