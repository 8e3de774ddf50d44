"""The ECF and ITTECF taxonomies: the strands a clip can be tagged with."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from api.deps import CurrentUser, SessionDep
from api.errors import responses
from api.schemas import FrameworkPublic, StrandPublic
from models.access import NotVisibleError
from models.framework import Framework, Strand, StrandKind, ensure_builtin, search_strands

router = APIRouter(prefix="/frameworks", tags=["frameworks"])


@router.get("", response_model=list[FrameworkPublic], responses=responses())
def list_frameworks(_: CurrentUser, session: SessionDep) -> list[FrameworkPublic]:
    ensure_builtin(session)
    session.commit()
    counts = {
        fid: n
        for fid, n in session.execute(
            select(Strand.framework_id, func.count()).group_by(Strand.framework_id)
        )
    }
    return [
        FrameworkPublic(
            id=f.id,
            name=f.name,
            version=f.version,
            source=f.source,
            strand_count=counts.get(f.id, 0),
        )
        for f in session.scalars(select(Framework).order_by(Framework.id))
    ]


@router.get("/{framework_id}/strands", response_model=list[StrandPublic], responses=responses(404))
def list_strands(
    framework_id: str,
    _: CurrentUser,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=200, description="Words to search for.")] = None,
    kind: StrandKind | None = None,
) -> list[StrandPublic]:
    """A framework's strands in document order; `q` keeps those whose title or code match."""
    ensure_builtin(session)
    session.commit()
    if session.get(Framework, framework_id) is None:
        raise NotVisibleError("framework")
    return [StrandPublic.model_validate(s) for s in search_strands(session, framework_id, q, kind)]
