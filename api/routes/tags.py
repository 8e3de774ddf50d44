"""Strand tags of a clip: mentors of the ECT tag a clip as evidence of practice (the work is in
`api.services.tags`)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentUser, SessionDep
from api.errors import responses
from api.schemas import TagCreate, TagPublic
from api.services import tags
from models.access import require_clip_coaching, visible_clip

router = APIRouter(prefix="/clips", tags=["clips"])


@router.get("/{clip_id}/tags", response_model=list[TagPublic], responses=responses(404))
def list_tags(clip_id: str, user: CurrentUser, session: SessionDep) -> list[TagPublic]:
    clip = visible_clip(session, user, clip_id)
    return tags.tags_of(session, [clip.id])[clip.id]


@router.post("/{clip_id}/tags", response_model=list[TagPublic], responses=responses(403, 404))
def add_tags(
    clip_id: str, body: TagCreate, user: CurrentUser, session: SessionDep
) -> list[TagPublic]:
    """Tag the clip as evidence of practice in one or more strands (mentors of the ECT)."""
    clip = visible_clip(session, user, clip_id)
    require_clip_coaching(session, user, clip, "tag clips")
    return tags.add_tags(session, user, clip, body.strand_ids)


@router.delete("/{clip_id}/tags/{strand_id}", status_code=204, responses=responses(403, 404))
def remove_tag(clip_id: str, strand_id: str, user: CurrentUser, session: SessionDep) -> None:
    clip = visible_clip(session, user, clip_id)
    require_clip_coaching(session, user, clip, "tag clips")
    tags.remove_tag(session, clip, strand_id)
