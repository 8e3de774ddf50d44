"""Collections of clips a mentor shares with an ECT at once (models/collections.py)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import CurrentUser, SessionDep, StorageDep, TaskQueueDep, client_of
from api.errors import CodedHTTPException, responses
from api.schemas import (
    CollectionCreate,
    CollectionItems,
    CollectionPublic,
    CollectionShareCreate,
    CollectionSharePublic,
    CollectionUpdate,
)
from api.services.clips import clip_public, render_for_recipient, user_brief
from api.services.shares import check_consent, future
from models import audit
from models.access import active_share, is_mentor_of, require_lesson_content
from models.account import User
from models.coaching import Clip, Share
from models.collections import (
    Collection,
    CollectionItem,
    check_clips,
    collection_filter,
    item_ids,
    recipients,
    require_collection_maker,
    require_collection_owner,
    revoke,
    share_clip,
    shown_clips,
    visible_collection,
)
from models.lesson import Lesson
from models.queue import TaskQueue
from models.storage import Storage

router = APIRouter(prefix="/collections", tags=["collections"])


def collection_public(session: Session, user: User, collection: Collection) -> CollectionPublic:
    shared: dict[str, CollectionSharePublic] = {}
    if collection.owner_id == user.id:
        rows = session.execute(
            select(Share.recipient_id, Share.created_at, Share.until)
            .where(Share.collection_id == collection.id, active_share())
            .order_by(Share.created_at)
        )
        for recipient_id, created_at, until in rows:
            brief = user_brief(session, recipient_id)
            if brief is not None and recipient_id not in shared:
                shared[recipient_id] = CollectionSharePublic(
                    recipient=brief, created_at=created_at, until=until
                )
    return CollectionPublic(
        id=collection.id,
        title=collection.title,
        note=collection.note,
        owner=user_brief(session, collection.owner_id),
        created_at=collection.created_at,
        clips=clip_public(session, user, shown_clips(session, user, collection)),
        shared_with=list(shared.values()),
    )


def _set_items(session: Session, collection: Collection, clips: list[Clip]) -> None:
    if len({c.id for c in clips}) != len(clips):
        raise CodedHTTPException(
            422, "A clip may be in a collection only once.", code="collection_clip_twice"
        )
    for item in session.scalars(
        select(CollectionItem).where(CollectionItem.collection_id == collection.id)
    ):
        session.delete(item)
    session.flush()
    for position, clip in enumerate(clips):
        session.add(CollectionItem(collection_id=collection.id, clip_id=clip.id, position=position))


def _lesson_owner(session: Session, clip: Clip) -> str | None:
    return session.scalar(select(Lesson.owner_id).where(Lesson.id == clip.lesson_id))


def _share_each(
    session: Session,
    user: User,
    collection: Collection,
    clips: list[Clip],
    ect_id: str,
    until: datetime | None,
    client: str,
) -> list[Clip]:
    """Share every clip with `ect_id` under the same rules as sharing it alone."""
    for clip in clips:
        lesson = session.get(Lesson, clip.lesson_id)
        assert lesson is not None  # noqa: S101 - the foreign key cascades
        if lesson.owner_id != ect_id:
            raise CodedHTTPException(
                409,
                f"The clip “{clip.title}” is of another teacher's lesson: a collection goes to "
                "the ECT whose lessons its clips are of.",
                code="collection_other_ect",
            )
        require_lesson_content(user, lesson)
        check_consent(lesson)
    for clip in clips:
        share_clip(session, user, collection, clip, ect_id, until, client)
    return clips


def _render_all(session: Session, storage: Storage, tasks: TaskQueue, clips: list[Clip]) -> None:
    for clip in clips:
        render_for_recipient(session, storage, tasks, clip)


@router.post(
    "", status_code=201, response_model=CollectionPublic, responses=responses(403, 404, 409)
)
def create_collection(
    body: CollectionCreate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    response: Response,
) -> CollectionPublic:
    """Bundle clips you may share (your clips of your ECTs' lessons) under a title, in order."""
    require_collection_maker(user)
    clips = check_clips(session, user, body.clip_ids)
    collection = Collection(owner_id=user.id, title=body.title.strip(), note=body.note)
    session.add(collection)
    session.flush()
    _set_items(session, collection, clips)
    audit.record(
        session, user.id, "collection.create", "collection", collection.id,
        client=client_of(request), clip_ids=[c.id for c in clips],
    )  # fmt: skip
    session.commit()
    response.headers["Location"] = f"/api/v1/collections/{collection.id}"
    return collection_public(session, user, collection)


@router.get("", response_model=list[CollectionPublic], responses=responses())
def list_collections(user: CurrentUser, session: SessionDep) -> list[CollectionPublic]:
    """Your collections and those shared with you, newest first."""
    rows = session.scalars(
        select(Collection)
        .where(collection_filter(user))
        .order_by(Collection.created_at.desc(), Collection.id)
    )
    return [collection_public(session, user, c) for c in rows]


@router.get("/{collection_id}", response_model=CollectionPublic, responses=responses(404))
def get_collection(
    collection_id: str, request: Request, user: CurrentUser, session: SessionDep
) -> CollectionPublic:
    collection = visible_collection(session, user, collection_id)
    client = client_of(request)
    if audit.record_view(
        session, user.id, "collection.view", "collection", collection.id, client=client
    ):
        session.commit()
    return collection_public(session, user, collection)


@router.patch("/{collection_id}", response_model=CollectionPublic, responses=responses(403, 404))
def update_collection(
    collection_id: str, body: CollectionUpdate, user: CurrentUser, session: SessionDep
) -> CollectionPublic:
    collection = visible_collection(session, user, collection_id)
    require_collection_owner(user, collection)
    if body.title is not None:
        collection.title = body.title.strip()
    if body.note is not None:
        collection.note = body.note
    session.commit()
    return collection_public(session, user, collection)


@router.delete("/{collection_id}", status_code=204, responses=responses(403, 404))
def delete_collection(
    collection_id: str, request: Request, user: CurrentUser, session: SessionDep
) -> None:
    """Delete the collection; its live shares are revoked first, so its ECT loses it at once."""
    collection = visible_collection(session, user, collection_id)
    require_collection_owner(user, collection)
    client = client_of(request)
    revoke(session, user, collection, client)
    session.delete(collection)
    audit.record(session, user.id, "collection.delete", "collection", collection_id, client=client)
    session.commit()


@router.put(
    "/{collection_id}/items", response_model=CollectionPublic, responses=responses(403, 404, 409)
)
def set_items(
    collection_id: str,
    body: CollectionItems,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    tasks: TaskQueueDep,
) -> CollectionPublic:
    """Reorder, add or remove clips. A shared collection shares an added clip with its ECTs
    (under the same rules) and stops sharing a removed one."""
    collection = visible_collection(session, user, collection_id)
    require_collection_owner(user, collection)
    before = set(item_ids(session, collection))
    clips = check_clips(session, user, body.clip_ids)
    _set_items(session, collection, clips)
    client = client_of(request)
    added = [c for c in clips if c.id not in before]
    for removed in before - {c.id for c in clips}:
        revoke(session, user, collection, client, clip_id=removed)
    for ect_id, until in recipients(session, collection).items():
        _share_each(session, user, collection, added, ect_id, until, client)
    audit.record(
        session, user.id, "collection.items", "collection", collection.id,
        client=client, clip_ids=[c.id for c in clips],
    )  # fmt: skip
    session.commit()
    if recipients(session, collection):
        _render_all(session, storage, tasks, added)
    return collection_public(session, user, collection)


@router.post(
    "/{collection_id}/shares",
    status_code=201,
    response_model=CollectionPublic,
    responses=responses(403, 404, 409),
)
def share_collection(
    collection_id: str,
    body: CollectionShareCreate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    tasks: TaskQueueDep,
) -> CollectionPublic:
    """Share the collection with the ECT whose lessons its clips are of: each clip is shared
    with them as if shared alone (refused, 409, when a lesson's consent does not allow it)."""
    collection = visible_collection(session, user, collection_id)
    require_collection_owner(user, collection)
    clips = check_clips(session, user, item_ids(session, collection))
    if not clips:
        raise CodedHTTPException(
            409, "The collection has no clips to share yet.", code="collection_empty"
        )
    ect_id = body.ect_id or _lesson_owner(session, clips[0])
    if not is_mentor_of(session, user, ect_id):
        raise CodedHTTPException(
            409, "You may share only with an ECT you are paired with.", code="collection_not_paired"
        )
    assert ect_id is not None  # noqa: S101 - a pairing names its ECT
    client = client_of(request)
    _share_each(session, user, collection, clips, ect_id, future(body.until), client)
    audit.record(
        session, user.id, "collection.share", "collection", collection.id,
        client=client, recipient_id=ect_id,
    )  # fmt: skip
    session.commit()
    _render_all(session, storage, tasks, clips)
    return collection_public(session, user, collection)


@router.delete("/{collection_id}/shares/{ect_id}", status_code=204, responses=responses(403, 404))
def revoke_collection(
    collection_id: str, ect_id: str, request: Request, user: CurrentUser, session: SessionDep
) -> None:
    """Stop sharing the collection with the ECT: every clip share it made ends at once (a clip
    also shared on its own stays shared)."""
    collection = visible_collection(session, user, collection_id)
    require_collection_owner(user, collection)
    client = client_of(request)
    if not revoke(session, user, collection, client, recipient_id=ect_id):
        raise CodedHTTPException(
            404, "The collection is not shared with this ECT.", code="collection_not_shared"
        )
    audit.record(
        session, user.id, "collection.revoke", "collection", collection.id,
        client=client, recipient_id=ect_id,
    )  # fmt: skip
    session.commit()
