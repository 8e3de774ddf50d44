"""Strand tags of clips: evidence of practice, never a score."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.schemas import TagPublic
from api.services.errors import InvalidError
from models.access import NotVisibleError
from models.account import User
from models.coaching import Clip, ClipTag
from models.framework import Strand, ensure_builtin


def tags_of(session: Session, clip_ids: Sequence[str]) -> dict[str, list[TagPublic]]:
    """Each clip's tags in framework order (every id gets a list, maybe empty)."""
    rows = session.execute(
        select(ClipTag, Strand)
        .join(Strand, Strand.id == ClipTag.strand_id)
        .where(ClipTag.clip_id.in_(clip_ids))
        .order_by(Strand.framework_id, Strand.position)
    )
    found: dict[str, list[TagPublic]] = {cid: [] for cid in clip_ids}
    for tag, strand in rows:
        found[tag.clip_id].append(
            TagPublic(
                strand_id=strand.id,
                framework_id=strand.framework_id,
                code=strand.code,
                title=strand.title,
                kind=strand.kind,
                tagged_at=tag.created_at,
            )
        )
    return found


def add_tags(
    session: Session, user: User, clip: Clip, strand_ids: Sequence[str]
) -> list[TagPublic]:
    """Tag `clip` with each strand it lacks (all known, or none is added); committed."""
    ensure_builtin(session)
    wanted = list(dict.fromkeys(strand_ids))
    known = set(session.scalars(select(Strand.id).where(Strand.id.in_(wanted))))
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise InvalidError(f"Unknown strand ids: {', '.join(unknown)}. See GET /api/v1/frameworks.")
    present = set(session.scalars(select(ClipTag.strand_id).where(ClipTag.clip_id == clip.id)))
    for strand_id in wanted:
        if strand_id not in present:
            session.add(ClipTag(clip_id=clip.id, strand_id=strand_id, tagged_by=user.id))
    session.commit()
    return tags_of(session, [clip.id])[clip.id]


def remove_tag(session: Session, clip: Clip, strand_id: str) -> None:
    """Untag `clip`; committed. NotVisibleError when it has no such tag."""
    tag = session.get(ClipTag, (clip.id, strand_id))
    if tag is None:
        raise NotVisibleError("tag")
    session.delete(tag)
    session.commit()
