"""A coach's batches: submit many recordings at once, watch them, download their transcripts.

Sources are finished uploads, lessons the caller can already see, and files under server
folders an administrator allowed (`batch_allowed_dirs`). Everything is checked before anything
is made: a path that resolves (through `..` or links) outside every allowed folder refuses the
whole request. Each file then becomes a lesson owned by the submitter, processed as usual; a
file whose content (SHA-256) matches a lesson the submitter can already see reuses that lesson.
A file that is not a recording is an item with its reason, not a failed request.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import CurrentUser, SessionDep, SettingsDep, StorageDep, TaskQueueDep, client_of
from api.errors import responses
from api.schemas import (
    BatchCounts,
    BatchCreate,
    BatchFolderFile,
    BatchFolderPublic,
    BatchItemPublic,
    BatchPublic,
    BatchRetried,
    BatchSummary,
)
from api.services.batches import (
    ZipSink,
    allowed_folders,
    batch_items,
    own_batch,
    retry_failed,
    safe_stem,
)
from api.services.errors import TooLargeError, UnsupportedError
from api.services.lessons import make_lesson
from api.services.pupilnames import hidden_names, redacted_transcript_file
from models import audit
from models.access import (
    lesson_filter,
    own_upload,
    require_lesson_content,
    visible_lesson,
)
from models.account import Role, User
from models.batch import Batch, BatchItem
from models.lesson import Lesson, LessonStatus, lesson_prefix
from models.queue import TaskQueue
from models.settings import Settings
from models.storage import Storage
from models.transcription import TRANSCRIPT_FORMATS, transcript_key
from models.upload import (
    Upload,
    assemble,
    discard,
    part_path,
    parts_in_storage,
    sha256_file,
    spool_path,
)
from pipeline.pupilnames import NameList

router = APIRouter(prefix="/batches", tags=["batches"])


def _require_submitter(user: User) -> None:
    if user.role not in (Role.coach, Role.admin):
        raise HTTPException(403, "Only coaches and administrators submit batches.")


@dataclass
class _Source:
    """One file to submit: a path on this server (an upload's bytes or an allowed file)."""

    name: str
    path: Path | None = None
    upload: Upload | None = None
    lesson: Lesson | None = None


def _resolve_paths(settings: Settings, paths: list[str]) -> list[_Source]:
    """Files named by `paths` (a folder: its files), each resolved inside an allowed folder."""
    allowed = [Path(d).expanduser().resolve() for d in settings.batch_allowed_dirs]
    if paths and not allowed:
        raise HTTPException(
            403,
            "No server folders are open to batches; an administrator can allow some with "
            "CLIPCOACH_BATCH_ALLOWED_DIRS.",
        )

    def inside(path: Path, shown: str) -> Path:
        resolved = path.resolve()
        if not any(resolved.is_relative_to(root) for root in allowed):
            raise HTTPException(
                403,
                f"{shown!r} is outside the folders allowed for batches "
                f"({', '.join(map(str, allowed))}).",
            )
        return resolved

    found: list[_Source] = []
    for raw in paths:
        if "\x00" in raw:
            raise HTTPException(422, "A path may not contain NUL characters.")
        given = Path(raw)
        if not given.is_absolute():
            raise HTTPException(422, f"{raw!r} is not an absolute path on the server.")
        resolved = inside(given, raw)
        if resolved.is_dir():
            for child in sorted(resolved.iterdir()):
                if child.name.startswith(".") or not child.is_file():
                    continue
                found.append(_Source(child.name, path=inside(child, str(child))))
        elif resolved.is_file():
            found.append(_Source(given.name, path=resolved))
        else:
            raise HTTPException(422, f"{raw!r} is not a file or folder on the server.")
    return found


def _sources(session: Session, settings: Settings, user: User, body: BatchCreate) -> list[_Source]:
    sources: list[_Source] = []
    for upload_id in dict.fromkeys(body.upload_ids):
        upload = own_upload(session, user, upload_id)
        if not upload.complete:
            raise HTTPException(
                409,
                f"Upload {upload_id} is not finished: {upload.offset} of {upload.size} bytes "
                "have arrived.",
            )
        sources.append(_Source(upload.filename, upload=upload))
    for lesson_id in dict.fromkeys(body.lesson_ids):
        lesson = visible_lesson(session, user, lesson_id)
        require_lesson_content(user, lesson)
        sources.append(_Source(lesson.source_filename, lesson=lesson))
    sources += _resolve_paths(settings, body.paths)
    return sources


def _processed_lesson(session: Session, user: User, sha256: str) -> Lesson | None:
    """A lesson the user can see with the same content that is not a failure, ready first."""
    # An administrator sees every lesson's record but reads only their own lessons' content.
    mine = Lesson.owner_id == user.id if user.role == Role.admin else lesson_filter(user)
    candidates = session.scalars(
        select(Lesson)
        .where(mine, Lesson.source_sha256 == sha256)
        .where(Lesson.status != LessonStatus.failed)
        .order_by(Lesson.created_at)
    ).all()
    ready = [c for c in candidates if c.status == LessonStatus.ready]
    found = ready or list(candidates)
    return found[0] if found else None


@router.post(
    "",
    status_code=201,
    response_model=BatchPublic,
    responses=responses(403, 404, 409, 422, 503),
)
def create_batch(
    body: BatchCreate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    tasks: TaskQueueDep,
    response: Response,
) -> BatchPublic:
    """Submit recordings for processing as one batch (coaches and administrators).

    Finished uploads are used up; lessons you can see are included as they are; files under
    allowed server folders are copied in. Content already processed (same SHA-256 as a lesson
    you can see) reuses that lesson. A file that is not a recording, or too large, is an item
    with `status` failed and the reason; the rest go ahead."""
    _require_submitter(user)
    sources = _sources(session, settings, user, body)
    client = client_of(request)
    batch = Batch(owner_id=user.id, name=body.name.strip())
    session.add(batch)
    session.commit()
    batch_id = batch.id
    made: list[str] = []
    try:
        for position, source in enumerate(sources):
            item = BatchItem(batch_id=batch_id, position=position, source_name=source.name[:1024])
            _submit(session, settings, storage, tasks, user, source, item, made, body, client)
            session.add(item)
            session.commit()
    except BaseException:
        session.rollback()
        for lesson_id in made:
            lesson = session.get(Lesson, lesson_id)
            if lesson is not None:
                session.delete(lesson)
            storage.delete_prefix(lesson_prefix(lesson_id))
        gone = session.get(Batch, batch_id)
        if gone is not None:
            session.delete(gone)
        session.commit()
        raise
    finally:
        for source in sources:
            if source.upload is not None:
                discard(settings.data_dir, source.upload.id, storage)
    audit.record(
        session, user.id, "batch.create", "batch", batch_id, client=client, items=len(sources)
    )
    session.commit()
    response.headers["Location"] = f"/api/v1/batches/{batch_id}"
    return _public(session, user, own_batch(session, user, batch_id))


def _submit(
    session: Session,
    settings: Settings,
    storage: Storage,
    tasks: TaskQueue,
    user: User,
    source: _Source,
    item: BatchItem,
    made: list[str],
    body: BatchCreate,
    client: str,
) -> None:
    """Fill `item` with the lesson `source` became (or reused), or why it became none."""
    if source.lesson is not None:
        item.lesson_id = source.lesson.id
        return
    joined: Path | None = None
    if source.upload is not None:
        path = part_path(settings.data_dir, source.upload.id)
        if parts_in_storage(storage):  # chunks from any API host: joined here, in order
            path = joined = spool_path(settings.data_dir, source.upload.id)
            assemble(storage, source.upload.id, source.upload.size, path)
        known = source.upload.sha256
        sha = known if known else sha256_file(path)
    else:
        assert source.path is not None  # noqa: S101 - narrows a type the code above guarantees
        path = source.path
        sha = sha256_file(path)
    try:
        existing = _processed_lesson(session, user, sha)
        if existing is not None:
            item.lesson_id, item.reused = existing.id, True
            return
        try:
            lesson = make_lesson(
                session, settings, storage, tasks, user, path, source.name, "", body.transcribe,
                sha, client,
            )  # fmt: skip
        except (TooLargeError, UnsupportedError) as exc:
            item.error_code = "too_large" if isinstance(exc, TooLargeError) else "not_a_recording"
            item.error_message = exc.detail
            return
        made.append(lesson.id)
        item.lesson_id = lesson.id
    finally:
        if joined is not None:
            joined.unlink(missing_ok=True)
        if source.upload is not None:
            upload = session.get(Upload, source.upload.id)
            if upload is not None:
                session.delete(upload)


def _item_public(item: BatchItem, lesson: Lesson | None) -> BatchItemPublic:
    if lesson is None:
        code = item.error_code or "lesson_deleted"
        message = item.error_message or "The lesson made from this file has been deleted."
        return BatchItemPublic(
            source_name=item.source_name, lesson_id=None, reused=item.reused, status="failed",
            stage=None, progress=0, error_code=code, error_message=message,
        )  # fmt: skip
    return BatchItemPublic(
        source_name=item.source_name,
        lesson_id=lesson.id,
        reused=item.reused,
        status=lesson.status.value,
        stage=lesson.stage,
        progress=lesson.progress,
        error_code=lesson.error_code,
        error_message=lesson.error_message,
    )


def _summary(batch: Batch, items: list[BatchItemPublic]) -> dict[str, object]:
    counts = BatchCounts(
        total=len(items),
        queued=sum(i.status == LessonStatus.queued for i in items),
        processing=sum(i.status == LessonStatus.processing for i in items),
        ready=sum(i.status == LessonStatus.ready for i in items),
        failed=sum(i.status == LessonStatus.failed for i in items),
    )
    return {
        "id": batch.id,
        "name": batch.name,
        "owner_id": batch.owner_id,
        "created_at": batch.created_at,
        "finished": counts.queued + counts.processing == 0,
        "counts": counts,
    }


def _public(session: Session, user: User, batch: Batch) -> BatchPublic:
    items = [_item_public(item, lesson) for item, lesson in batch_items(session, user, batch)]
    return BatchPublic(**_summary(batch, items), items=items)


@router.get("", response_model=list[BatchSummary], responses=responses())
def list_batches(
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> list[BatchSummary]:
    """The batches you submitted, newest first, with their counts."""
    batches = session.scalars(
        select(Batch)
        .where(Batch.owner_id == user.id)
        .order_by(Batch.created_at.desc(), Batch.id)
        .limit(limit)
        .offset(offset)
    )
    out = []
    for batch in batches:
        items = [_item_public(item, lesson) for item, lesson in batch_items(session, user, batch)]
        out.append(BatchSummary(**_summary(batch, items)))
    return out


@router.get("/folders", response_model=list[BatchFolderPublic], responses=responses(403))
def list_batch_folders(user: CurrentUser, settings: SettingsDep) -> list[BatchFolderPublic]:
    """The server folders batches may read (coaches and administrators): each allowed folder
    and the folders directly in it, with their files, so a coach picks rather than types."""
    _require_submitter(user)
    return [
        BatchFolderPublic(
            path=folder.path,
            files=[BatchFolderFile(name=f.name, size=f.size) for f in folder.files],
            file_count=folder.file_count,
        )
        for folder in allowed_folders(settings)
    ]


@router.get("/{batch_id}", response_model=BatchPublic, responses=responses(404))
def get_batch(batch_id: str, user: CurrentUser, session: SessionDep) -> BatchPublic:
    """Each file's lesson with its status, stage, progress and error; overall counts."""
    return _public(session, user, own_batch(session, user, batch_id))


@router.post(
    "/{batch_id}/retry", status_code=202, response_model=BatchRetried, responses=responses(404, 409)
)
def retry_batch(
    batch_id: str, request: Request, user: CurrentUser, session: SessionDep, tasks: TaskQueueDep
) -> BatchRetried:
    """Process the batch's failed lessons again (its submitter), e.g. after a full disk or a
    worker restart; items already queued, processing or ready are left alone. 409
    `nothing_to_retry` when no lesson of it has failed (a second click changes nothing)."""
    batch = own_batch(session, user, batch_id)
    retried = retry_failed(
        session, tasks, user, batch, batch_items(session, user, batch), client_of(request)
    )
    session.expire_all()
    public = _public(session, user, own_batch(session, user, batch_id))
    return BatchRetried(**public.model_dump(), retried=len(retried))


def _formats(value: str) -> list[str]:
    formats = list(dict.fromkeys(f.strip().lower() for f in value.split(",") if f.strip()))
    unknown = [f for f in formats if f not in TRANSCRIPT_FORMATS]
    if unknown or not formats:
        raise HTTPException(
            422, f"formats must be a comma-separated list of {', '.join(TRANSCRIPT_FORMATS)}."
        )
    return formats


@router.get(
    "/{batch_id}/transcripts.zip",
    response_class=StreamingResponse,
    responses={**responses(404, 422), 200: {"content": {"application/zip": {}}}},
)
def get_batch_transcripts(
    batch_id: str,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    formats: Annotated[str, Query(description="Comma-separated: vtt, srt, json, txt.")] = "vtt",
) -> StreamingResponse:
    """A zip of the ready lessons' transcripts, named after their source files, with
    `manifest.json` listing every file and why any has no transcript. Pupils' names on the
    class lists are [pupil] in the lessons you neither teach nor mentor."""
    batch = own_batch(session, user, batch_id)
    wanted = _formats(formats)
    plan: list[tuple[NameList | None, list[tuple[str, str, str]]]] = []
    manifest: dict[str, object] = {"batch": batch.id, "name": batch.name, "formats": wanted}
    included: list[dict[str, object]] = []
    failures: list[dict[str, object]] = []
    taken: set[str] = {"manifest"}
    for item, lesson in batch_items(session, user, batch):
        public = _item_public(item, lesson)
        entry: dict[str, object] = {"source": item.source_name, "lesson_id": public.lesson_id}
        if lesson is None or lesson.status != LessonStatus.ready:
            failures.append(
                {**entry, "status": public.status, "error_code": public.error_code,
                 "error_message": public.error_message or "Not processed yet."}
            )  # fmt: skip
            continue
        stem = safe_stem(item.source_name, f"lesson-{lesson.id}")
        name, n = stem, 1
        while name.lower() in taken:
            n += 1
            name = f"{stem}-{n}"
        files = [
            (f"{name}.{fmt}", transcript_key(lesson, fmt), fmt)
            for fmt in wanted
            if storage.exists(transcript_key(lesson, fmt))
        ]
        if not files:
            reason = (
                "Transcription was switched off for this lesson."
                if not lesson.transcribe
                else "This recording has no sound, so it has no transcript."
                if lesson.has_audio is False
                else "No transcript in the asked formats."
            )
            failures.append({**entry, "status": "no_transcript", "error_message": reason})
            continue
        taken.add(name.lower())
        included.append({**entry, "files": [f for f, _, _ in files]})
        names = hidden_names(session, user, lesson)
        plan.append(
            (names, [(f, transcript_key(lesson, "json") if names else k, t) for f, k, t in files])
        )
    manifest["lessons"] = included
    manifest["failures"] = failures
    audit.record(
        session, user.id, "batch.transcripts", "batch", batch.id,
        client=client_of(request), formats=wanted, lessons=len(plan),
    )  # fmt: skip
    session.commit()

    def stream() -> Iterator[bytes]:
        sink = ZipSink()
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for names, files in plan:
                for arcname, key, fmt in files:
                    data = storage.get_bytes(key)
                    if names is not None:  # from the JSON, with the pupils' names left out
                        data = redacted_transcript_file(data, fmt, names)
                    archive.writestr(arcname, data)
                    yield sink.take()
            archive.writestr("manifest.json", json.dumps(manifest, indent=2))
        yield sink.take()

    filename = safe_stem(batch.name, f"batch-{batch.id}") + "-transcripts.zip"
    return StreamingResponse(
        stream(),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private",
        },
    )
