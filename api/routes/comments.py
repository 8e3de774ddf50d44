"""Comments on a clip or a whole lesson, and changing or removing one (the work is in
`api.services.comments`). The routes under /clips keep the OpenAPI tag "clips", where a client
looks for everything about a clip."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import CurrentUser, SessionDep, SettingsDep, client_of
from api.errors import responses
from api.schemas import CommentCreate, CommentPublic, CommentUpdate
from api.services.comments import (
    changeable,
    comment_public,
    edit,
    edit_window,
    post_comment,
    remove,
    require_commentable,
    thread,
)
from models.access import visible_clip, visible_lesson_comments

router = APIRouter()


@router.get(
    "/clips/{clip_id}/comments",
    tags=["clips"],
    response_model=list[CommentPublic],
    responses=responses(404),
)
def list_comments(
    clip_id: str, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> list[CommentPublic]:
    """Comments in clip time order, each with its replies (oldest first)."""
    clip = visible_clip(session, user, clip_id)
    return thread(session, user, settings, on=("clip", clip.id))


@router.post(
    "/clips/{clip_id}/comments",
    tags=["clips"],
    status_code=201,
    response_model=CommentPublic,
    responses=responses(404, 409),
)
def add_comment(
    clip_id: str,
    body: CommentCreate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> CommentPublic:
    """Comment at a moment of the clip, or reply to a comment (the ECT answers and reflects)."""
    clip = visible_clip(session, user, clip_id)
    return post_comment(
        session, user, body, settings, client_of(request),
        on=("clip", clip.id), length=clip.end - clip.start,
    )  # fmt: skip


@router.get(
    "/lessons/{lesson_id}/comments",
    tags=["comments"],
    response_model=list[CommentPublic],
    responses=responses(403, 404),
)
def list_lesson_comments(
    lesson_id: str, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> list[CommentPublic]:
    """Comments on the whole lesson in lesson time order, each with its replies."""
    lesson = visible_lesson_comments(session, user, lesson_id)
    return thread(session, user, settings, on=("lesson", lesson.id))


@router.post(
    "/lessons/{lesson_id}/comments",
    tags=["comments"],
    status_code=201,
    response_model=CommentPublic,
    responses=responses(403, 404, 409),
)
def add_lesson_comment(
    lesson_id: str,
    body: CommentCreate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> CommentPublic:
    """Comment at a moment of the lesson (`at`: seconds into it), or reply to such a comment."""
    lesson = visible_lesson_comments(session, user, lesson_id)
    length = require_commentable(lesson)
    return post_comment(
        session, user, body, settings, client_of(request),
        on=("lesson", lesson.id), length=length,
    )  # fmt: skip


@router.patch(
    "/comments/{comment_id}",
    tags=["comments"],
    response_model=CommentPublic,
    responses=responses(403, 404, 409),
)
def edit_comment(
    comment_id: str,
    body: CommentUpdate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> CommentPublic:
    """Change your own comment or reply (its words or kind) within the edit window; it then
    shows as edited, with the time. Audited (without the words: the audit log is an admin's)."""
    comment = changeable(session, user, comment_id, settings)
    edit(session, user, comment, body.body, body.kind, client_of(request))
    return comment_public(session, user, comment, edit_window(settings))


@router.delete(
    "/comments/{comment_id}", tags=["comments"], status_code=204, responses=responses(403, 404, 409)
)
def delete_comment(
    comment_id: str,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> None:
    """Remove your own comment or reply within the edit window. One with replies stays in the
    thread as "comment removed" (its words are gone); one without disappears. Audited."""
    comment = changeable(session, user, comment_id, settings)
    remove(session, user, comment, client_of(request))
