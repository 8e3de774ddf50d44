"""Searching the transcripts of every lesson the caller may read, to jump to the moment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request

from api.deps import CurrentUser, SessionDep, client_of
from api.errors import responses
from api.schemas import SearchHit
from api.services.pupilnames import shown_hits
from models import audit, search

router = APIRouter(tags=["search"])


@router.get("/search", response_model=list[SearchHit], responses=responses(422))
def search_transcripts(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=search.MAX_QUERY_CHARS,
            description='Words to find (all of them); "quoted words" as a phrase, word* as a '
            "prefix. Nothing else is query syntax.",
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> list[SearchHit]:
    """Sentences of the newest transcripts of the lessons you may watch, best match first, each
    with the lesson and the moment it starts. Audited: who searched for what, and which
    lessons' words they were shown."""
    try:
        found = search.search(session, user, q, limit=limit, offset=offset)
    except search.EmptyQueryError as exc:
        raise HTTPException(422, str(exc)) from None
    hits = shown_hits(session, user, found)
    audit.record(
        session, user.id, audit.SEARCH, "user", user.id, client=client_of(request),
        query=q[:200], lessons=sorted({h.lesson_id for h in hits}),
    )  # fmt: skip
    session.commit()
    return [
        SearchHit(
            lesson_id=h.lesson_id,
            lesson_title=h.title,
            sentence=h.sentence,
            start=h.start,
            end=h.end,
            snippet=h.snippet,
            highlights=list(h.highlights),
        )
        for h in hits
    ]
