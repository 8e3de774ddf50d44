"""Resumable uploads (tus-like): create, append chunks at offsets, ask for the offset, abandon.

    POST   /uploads             {filename, size, sha256?}      -> 201 {id, offset: 0}
    PATCH  /uploads/{id}        Upload-Offset: N, body = bytes  -> 200 {offset}
    HEAD   /uploads/{id}        -> Upload-Offset, Upload-Length (after a dropped connection)
    GET    /uploads/{id}        -> the same as JSON
    DELETE /uploads/{id}        -> 204, the bytes are removed

A chunk is written as it streams in. If the connection drops mid-chunk, the bytes that arrived are
kept and the offset moves to the end of them. The first bytes are checked for a recording's
signature as soon as they arrive (415 early, not after gigabytes); the checksum when the last
byte arrives (422, upload discarded). A finished upload becomes a lesson with POST /lessons.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from api.deps import CurrentUser, SessionDep, SettingsDep
from api.errors import responses
from api.schemas import UploadCreate, UploadPublic
from models.access import own_upload, require_uploader
from models.mediatype import SNIFF_BYTES, NotARecordingError, sniff
from models.settings import Settings
from models.upload import (
    ChunkTooLargeError,
    Upload,
    append_chunk,
    discard,
    part_path,
    read_head,
    sha256_file,
)

router = APIRouter(prefix="/uploads", tags=["uploads"])

_locks: dict[str, asyncio.Lock] = {}


def _offset_headers(upload: Upload) -> dict[str, str]:
    return {
        "Upload-Offset": str(upload.offset),
        "Upload-Length": str(upload.size),
        "Cache-Control": "no-store",
    }


def too_large_detail(size: int, limit: int) -> str:
    return (
        f"The recording is {size / 1024**2:.1f} MB; this server accepts up to "
        f"{limit / 1024**2:.0f} MB per recording."
    )


@router.post("", status_code=201, response_model=UploadPublic, responses=responses(403, 413))
def create_upload(
    body: UploadCreate, user: CurrentUser, session: SessionDep, settings: SettingsDep,
    response: Response,
) -> Upload:  # fmt: skip
    """Start an upload; the declared size is checked against the limit before any byte is sent."""
    require_uploader(user)
    if body.size > settings.max_upload_bytes:
        raise HTTPException(413, too_large_detail(body.size, settings.max_upload_bytes))
    upload = Upload(
        owner_id=user.id,
        filename=body.filename,
        size=body.size,
        sha256=body.sha256.lower() if body.sha256 else None,
    )
    session.add(upload)
    session.flush()
    part_path(settings.data_dir, upload.id).touch(mode=0o600)
    session.commit()
    response.headers.update(_offset_headers(upload))
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
    return Response(status_code=200, headers=_offset_headers(upload))


@router.get("/{upload_id}", response_model=UploadPublic, responses=responses(404))
def get_upload(
    upload_id: str, user: CurrentUser, session: SessionDep, response: Response
) -> Upload:
    upload = own_upload(session, user, upload_id)
    response.headers.update(_offset_headers(upload))
    return upload


@router.delete("/{upload_id}", status_code=204, responses=responses(404))
def abandon_upload(
    upload_id: str, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> None:
    upload = own_upload(session, user, upload_id)
    session.delete(upload)
    session.commit()
    discard(settings.data_dir, upload_id)


@router.patch(
    "/{upload_id}",
    response_model=UploadPublic,
    responses=responses(404, 409, 413, 415),
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
async def append(
    upload_id: str,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    upload_offset: Annotated[int, Header(alias="Upload-Offset", ge=0)],
) -> Response:
    """Append a chunk at `Upload-Offset` (409 with the current offset if it is not the end)."""
    upload = own_upload(session, user, upload_id)
    lock = _locks.setdefault(upload_id, asyncio.Lock())
    if lock.locked():
        raise HTTPException(
            409,
            f"Another chunk of this upload is still arriving; the current offset is "
            f"{upload.offset}.",
            headers=_offset_headers(upload),
        )
    async with lock:
        try:
            return await _append(request, session, settings, upload, upload_offset)
        finally:
            _locks.pop(upload_id, None)


async def _append(
    request: Request, session: Session, settings: Settings, upload: Upload, offset: int
) -> Response:
    if offset != upload.offset:
        raise HTTPException(
            409,
            f"This chunk starts at byte {offset} but the upload has {upload.offset} bytes; "
            f"the current offset is {upload.offset}: send from there.",
            headers=_offset_headers(upload),
        )
    remaining = upload.size - upload.offset
    limit = min(settings.upload_chunk_max_bytes, remaining)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, _chunk_detail(limit, remaining))
    path = part_path(settings.data_dir, upload.id)
    disconnected = False
    try:
        await append_chunk(path, offset, request.stream(), limit)
    except ChunkTooLargeError:
        raise HTTPException(413, _chunk_detail(limit, remaining)) from None
    except ClientDisconnect:
        disconnected = True  # keep what arrived; the client asks for the offset and resumes
    upload.offset = min(path.stat().st_size, upload.size)
    session.commit()
    if disconnected:
        return Response(status_code=400)

    need = min(SNIFF_BYTES, upload.size)
    if offset < need <= upload.offset:
        try:
            sniff(read_head(path))
        except NotARecordingError as exc:
            _drop(session, settings, upload)
            raise HTTPException(415, f"{exc} Upload discarded.") from None
    if upload.complete and upload.sha256:
        actual = await run_in_threadpool(sha256_file, path)
        if actual != upload.sha256:
            _drop(session, settings, upload)
            raise HTTPException(
                422,
                f"The checksum does not match: expected SHA-256 {upload.sha256}, received "
                f"{actual}. The upload was discarded; upload the file again.",
            )
    public = UploadPublic.model_validate(upload)
    return Response(
        public.model_dump_json(),
        media_type="application/json",
        headers=_offset_headers(upload),
    )


def _chunk_detail(limit: int, remaining: int) -> str:
    if limit == remaining:
        return (
            f"The chunk goes past the declared size of the upload; only {remaining} bytes remain. "
            "Nothing of this chunk was kept."
        )
    return f"Chunks may be at most {limit} bytes. Nothing of this chunk was kept."


def _drop(session: Session, settings: Settings, upload: Upload) -> None:
    session.delete(upload)
    session.commit()
    discard(settings.data_dir, upload.id)
