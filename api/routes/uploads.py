"""Resumable uploads (tus-like): create, append chunks at offsets, ask for the offset, abandon.

    POST   /uploads             {filename, size, sha256?}      -> 201 {id, offset: 0}
    PATCH  /uploads/{id}        Upload-Offset: N, body = bytes  -> 200 {offset}
    HEAD   /uploads/{id}        -> Upload-Offset, Upload-Length (after a dropped connection)
    GET    /uploads/{id}        -> the same as JSON
    DELETE /uploads/{id}        -> 204, the bytes are removed

A chunk is written as it streams in (to this host's `.part` file, or spooled here and then
stored as a part in shared storage: see models/upload.py). If the connection drops mid-chunk,
the bytes that arrived are kept and the offset moves to the end of them. One chunk of an upload
is written at a time, in any number of API processes and hosts (a compare-and-set claim on the
row: the loser of a race is 409). A
full upload folder is 507 with the offset unchanged and nothing of the chunk kept. The first
bytes are checked for a recording's signature as soon as they arrive (415 early, not after
gigabytes); the checksum when the last byte arrives (422, upload discarded). A finished upload
becomes a lesson with POST /lessons.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.requests import ClientDisconnect

from api.bodies import iter_body
from api.deps import CurrentUser, PartWriterDep, SessionDep, SettingsDep, StorageDep
from api.errors import CodedHTTPException, no_space, offset_headers, responses
from api.schemas import UploadCreate, UploadPublic
from api.services.errors import too_large_detail
from models.access import own_upload, require_uploader
from models.account import User
from models.lesson import Lesson
from models.mediatype import SNIFF_BYTES, NotARecordingError, sniff
from models.settings import Settings
from models.storage import Storage
from models.upload import (
    ChunkTooLargeError,
    ClaimLostError,
    NoSpaceError,
    Upload,
    claim_chunk,
    discard,
    finish_chunk,
    part_path,
    parts_in_storage,
    read_head,
    refresh_claim,
    sha256_file,
    sha256_stored,
    spool_path,
    stored_head,
    stored_part_key,
)

router = APIRouter(prefix="/uploads", tags=["uploads"])

QUOTA_OPEN = "upload_quota_open"
QUOTA_IN_FLIGHT = "upload_quota_in_flight"
QUOTA_STORAGE = "upload_quota_storage"


def check_quota(session: Session, settings: Settings, user: User, size: int) -> None:
    """Refuse a new upload of `size` bytes past the user's limits: open uploads and declared
    bytes in flight (429: finish or abandon one), or their storage quota (413).

    The user's row is locked first (on PostgreSQL), so two uploads started at once by one user
    are counted one after the other."""
    session.execute(select(User.id).where(User.id == user.id).with_for_update())
    count, in_flight = session.execute(
        select(func.count(Upload.id), func.coalesce(func.sum(Upload.size), 0)).where(
            Upload.owner_id == user.id
        )
    ).one()
    if count >= settings.upload_max_open:
        raise CodedHTTPException(
            429,
            f"You have {count} unfinished uploads, the most this server allows at once; "
            "finish or abandon one first.",
            QUOTA_OPEN,
            headers={"Retry-After": "60"},
        )
    if in_flight + size > settings.upload_max_in_flight_bytes:
        raise CodedHTTPException(
            429,
            f"Your unfinished uploads already declare {in_flight / 1024**2:.0f} MB; with this "
            f"one that passes the {settings.upload_max_in_flight_bytes / 1024**2:.0f} MB allowed "
            "in flight. Finish or abandon one first.",
            QUOTA_IN_FLIGHT,
            headers={"Retry-After": "60"},
        )
    quota = settings.storage_quota_bytes_by_role.get(user.role.value, settings.storage_quota_bytes)
    if quota:
        kept = session.scalar(
            select(func.coalesce(func.sum(Lesson.source_size), 0)).where(Lesson.owner_id == user.id)
        )
        if (kept or 0) + in_flight + size > quota:
            raise CodedHTTPException(
                413,
                f"This recording would take you past your storage quota of "
                f"{quota / 1024**2:.0f} MB (you keep {(kept or 0) / 1024**2:.0f} MB); delete "
                "lessons you no longer need, or ask an administrator.",
                QUOTA_STORAGE,
            )


@router.post("", status_code=201, response_model=UploadPublic, responses=responses(403, 413, 429))
def create_upload(
    body: UploadCreate, user: CurrentUser, session: SessionDep, settings: SettingsDep,
    storage: StorageDep, response: Response,
) -> Upload:  # fmt: skip
    """Start an upload; the declared size is checked against the limit before any byte is sent."""
    require_uploader(user)
    if body.size > settings.max_upload_bytes:
        raise HTTPException(413, too_large_detail(body.size, settings.max_upload_bytes))
    check_quota(session, settings, user, body.size)
    upload = Upload(
        owner_id=user.id,
        filename=body.filename,
        size=body.size,
        sha256=body.sha256.lower() if body.sha256 else None,
    )
    session.add(upload)
    session.flush()
    if not parts_in_storage(storage):
        part_path(settings.data_dir, upload.id).touch(mode=0o600)
    session.commit()
    response.headers.update(offset_headers(upload))
    response.headers["Location"] = f"/api/v1/uploads/{upload.id}"
    return upload


OFFSET_HEADERS = {
    "Upload-Offset": {"description": "Bytes received so far.", "schema": {"type": "integer"}},
    "Upload-Length": {"description": "The upload's declared size.", "schema": {"type": "integer"}},
}


@router.head(
    "/{upload_id}",
    status_code=200,
    response_class=Response,
    responses={
        **responses(404),
        200: {"description": "The offset, in headers (no body).", "headers": OFFSET_HEADERS},
    },
)
def upload_offset(upload_id: str, user: CurrentUser, session: SessionDep) -> Response:
    """The current offset, in the Upload-Offset header (no body)."""
    upload = own_upload(session, user, upload_id)
    return Response(status_code=200, headers=offset_headers(upload))


@router.get("/{upload_id}", response_model=UploadPublic, responses=responses(404))
def get_upload(
    upload_id: str, user: CurrentUser, session: SessionDep, response: Response
) -> Upload:
    upload = own_upload(session, user, upload_id)
    response.headers.update(offset_headers(upload))
    return upload


@router.delete("/{upload_id}", status_code=204, responses=responses(404))
def abandon_upload(
    upload_id: str, user: CurrentUser, session: SessionDep, settings: SettingsDep,
    storage: StorageDep,
) -> None:  # fmt: skip
    upload = own_upload(session, user, upload_id)
    session.delete(upload)
    session.commit()
    discard(settings.data_dir, upload_id, storage)


@router.patch(
    "/{upload_id}",
    response_model=UploadPublic,
    responses=responses(404, 409, 413, 415, 507),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The chunk's bytes, starting at Upload-Offset.",
            "content": {
                "application/offset+octet-stream": {
                    "schema": {"type": "string", "format": "binary"}
                },
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
def append(
    upload_id: str,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    writer: PartWriterDep,
    upload_offset: Annotated[int, Header(alias="Upload-Offset", ge=0)],
) -> Response:
    """Append a chunk at `Upload-Offset` (409 with the current offset if it is not the end, or
    while another chunk of this upload is arriving, through this API process or another)."""
    upload = own_upload(session, user, upload_id)
    if upload_offset != upload.offset:
        raise _wrong_offset(upload_offset, upload)
    remaining = upload.size - upload.offset
    limit = min(settings.upload_chunk_max_bytes, remaining)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, _chunk_detail(limit, remaining))
    token = claim_chunk(session, upload.id, upload_offset)
    session.refresh(upload)
    if token is None:
        if upload_offset != upload.offset:
            raise _wrong_offset(upload_offset, upload)
        raise HTTPException(
            409,
            f"Another chunk of this upload is still arriving; the current offset is "
            f"{upload.offset}.",
            headers=offset_headers(upload),
        )
    shared = parts_in_storage(storage)
    path = part_path(settings.data_dir, upload.id)
    target = spool_path(settings.data_dir, upload.id) if shared else path
    disconnected, stored, key = False, False, ""
    try:
        try:
            writer.append_chunk(
                target,
                0 if shared else upload_offset,
                iter_body(request),
                limit,
                keep_alive=lambda: refresh_claim(session, upload.id, token),
            )
        except ChunkTooLargeError:
            finish_chunk(session, upload.id, token, None)
            raise HTTPException(413, _chunk_detail(limit, remaining)) from None
        except NoSpaceError:
            finish_chunk(session, upload.id, token, None)
            session.refresh(upload)
            raise no_space(upload) from None
        except ClaimLostError:
            session.refresh(upload)
            raise HTTPException(
                409,
                f"This chunk stalled and another took its place; the current offset is "
                f"{upload.offset}.",
                headers=offset_headers(upload),
            ) from None
        except ClientDisconnect:
            disconnected = True  # keep what arrived; the client asks for the offset and resumes
        except BaseException:
            finish_chunk(session, upload.id, token, None)
            raise
        if shared:
            arrived = target.stat().st_size
            key = stored_part_key(upload.id, upload_offset, token)
            stored = arrived > 0 and refresh_claim(session, upload.id, token)
            try:
                if stored:
                    storage.put_file(key, target, "application/octet-stream")
            except BaseException:
                finish_chunk(session, upload.id, token, None)
                raise
            end = upload_offset + arrived if stored else upload_offset
        else:
            end = path.stat().st_size
    finally:
        if shared:
            target.unlink(missing_ok=True)
    if not finish_chunk(session, upload.id, token, min(end, upload.size)):
        disconnected = True  # a stalled write that lost its claim: the new writer's offset holds
        if shared and stored:
            storage.delete(key)  # not acknowledged: the part that replaced it stands
    session.refresh(upload)
    if disconnected:
        return Response(status_code=400)

    need = min(SNIFF_BYTES, upload.size)
    if upload_offset < need <= upload.offset:
        try:
            sniff(stored_head(storage, upload.id, upload.size) if shared else read_head(path))
        except NotARecordingError as exc:
            _drop(session, settings, storage, upload)
            raise HTTPException(415, f"{exc} Upload discarded.") from None
    if upload.complete and upload.sha256:
        actual = sha256_stored(storage, upload.id, upload.size) if shared else sha256_file(path)
        if actual != upload.sha256:
            _drop(session, settings, storage, upload)
            raise HTTPException(
                422,
                f"The checksum does not match: expected SHA-256 {upload.sha256}, received "
                f"{actual}. The upload was discarded; upload the file again.",
            )
    public = UploadPublic.model_validate(upload)
    return Response(
        public.model_dump_json(),
        media_type="application/json",
        headers=offset_headers(upload),
    )


def _wrong_offset(offset: int, upload: Upload) -> HTTPException:
    return HTTPException(
        409,
        f"This chunk starts at byte {offset} but the upload has {upload.offset} bytes; "
        f"the current offset is {upload.offset}: send from there.",
        headers=offset_headers(upload),
    )


def _chunk_detail(limit: int, remaining: int) -> str:
    if limit == remaining:
        return (
            f"The chunk goes past the declared size of the upload; only {remaining} bytes remain. "
            "Nothing of this chunk was kept."
        )
    return f"Chunks may be at most {limit} bytes. Nothing of this chunk was kept."


def _drop(session: Session, settings: Settings, storage: Storage, upload: Upload) -> None:
    session.delete(upload)
    session.commit()
    discard(settings.data_dir, upload.id, storage)
