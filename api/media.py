"""Serving stored files: a redirect to a presigned URL where storage offers one, else the file
with HTTP range requests (Starlette's FileResponse answers Range with 206 and Content-Range)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse

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


def is_first_request(request: Request) -> bool:
    """A player fetches media in many ranges; only the first one (from byte 0) is a 'view'."""
    value = request.headers.get("range", "")
    if not value:
        return True
    return value.replace(" ", "").lower().startswith("bytes=0-")


MEDIA_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"description": "The whole file.", "content": {"video/mp4": {}, "audio/mp4": {}}},
    206: {
        "description": "The requested byte range (Range: bytes=START-END).",
        "content": {"video/mp4": {}, "audio/mp4": {}},
    },
    307: {"description": "Redirect to a short-lived URL on the object store."},
    416: {"description": "The range is outside the file."},
}
