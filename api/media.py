"""Serving stored files: a redirect to a presigned URL where storage offers one, else the file
with HTTP range requests (Starlette's FileResponse answers Range with 206 and Content-Range)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from api.deps import client_of
from models import audit
from models.storage import Storage

PRESIGNED_TTL = timedelta(minutes=15)
PRIVATE = {"Cache-Control": "private, max-age=300"}
NO_STORE = {"Cache-Control": "private, no-store"}
"""For answers to a media link: its URL holds a credential, so no cache may key anything on it."""


def serve_object(
    storage: Storage,
    key: str,
    media_type: str,
    *,
    download_name: str | None = None,
    no_store: bool = False,
) -> Response:
    """The object at `key` as a response; ObjectMissingError (-> 404) if it is not there."""
    url = storage.presigned_get_url(key, PRESIGNED_TTL)
    if url:
        return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})
    cache = NO_STORE if no_store else PRIVATE
    path = storage.local_path(key)
    if path is not None:
        return FileResponse(
            path,
            media_type=media_type,
            headers=cache,
            filename=download_name,
            content_disposition_type="inline",
        )
    size = storage.size(key)
    return StreamingResponse(
        storage.open_range(key),
        media_type=media_type,
        headers={**cache, "Content-Length": str(size)},
    )


def audit_content(
    session: Session, request: Request, user_id: str, action: str, object_type: str, object_id: str
) -> None:
    """Record that `user_id` was given lesson content, however the bytes were asked for.

    The rule for every route that returns lesson content (media, transcripts, segments,
    captions, thumbnails, sprite, poster, clip media): a person's first request for a thing
    in `audit.VIEW_WINDOW` is the view, whatever its Range header says (`bytes=00-`,
    `bytes=1-,0-0`, a suffix range, several ranges, none). Judging by the header's spelling
    let any range but the literal `bytes=0-` download a whole lesson unrecorded.
    """
    if audit.record_view(
        session, user_id, action, object_type, object_id, client=client_of(request)
    ):
        session.commit()


MEDIA_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"description": "The whole file.", "content": {"video/mp4": {}, "audio/mp4": {}}},
    206: {
        "description": "The requested byte range (Range: bytes=START-END).",
        "content": {"video/mp4": {}, "audio/mp4": {}},
    },
    307: {"description": "Redirect to a short-lived URL on the object store."},
    416: {"description": "The range is outside the file."},
}
