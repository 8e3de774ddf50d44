"""Class lists (models/pupilnames.py): a teacher keeps their own pupils' first names and
nicknames, an admin the school's. Only the list's keeper reads or changes it; each change is
audited (without the name) and throws away the rendered clips the list applies to, so the next
render silences the names as the list now has them (api/services/pupilnames.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from api.deps import CurrentUser, SessionDep, StorageDep, client_of
from api.errors import responses
from api.schemas import PupilNameCreate, PupilNamePublic, PupilNameUpdate
from api.services.pupilnames import checked_name, forget_renders_for, list_owner, visible_name
from models import audit
from models.pupilnames import PupilName, fold_name, list_of
from models.storage import Storage

router = APIRouter(prefix="/pupil-names", tags=["class lists"])
Scope = Literal["mine", "school"]


def _public(row: PupilName) -> PupilNamePublic:
    scope: Scope = "school" if row.owner_id is None else "mine"
    return PupilNamePublic(id=row.id, name=row.name, scope=scope, created_at=row.created_at)


def _changed(
    session: Session, storage: Storage, request: Request, user_id: str, action: str, row: PupilName
) -> None:
    clips = forget_renders_for(session, storage, row.owner_id)
    audit.record(
        session, user_id, action, "pupil_name", row.id, client=client_of(request),
        scope="school" if row.owner_id is None else "mine", clips_rerendered=clips,
    )  # fmt: skip
    session.commit()


@router.get("", response_model=list[PupilNamePublic], responses=responses(403))
def list_pupil_names(
    user: CurrentUser, session: SessionDep, scope: Annotated[Scope, Query()] = "mine"
) -> list[PupilNamePublic]:
    """Your class list (`scope=mine`), or the school's (`scope=school`, administrators), in
    alphabetical order. Both apply to your lessons."""
    return [_public(r) for r in list_of(session, list_owner(user, scope))]


@router.post("", status_code=201, response_model=PupilNamePublic, responses=responses(403, 409))
def add_pupil_name(
    body: PupilNameCreate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    response: Response,
) -> PupilNamePublic:
    """Put a name on your class list or (administrators) the school's; 409 `pupil_name_exists`
    when it is already there."""
    owner_id = list_owner(user, body.scope)
    name = checked_name(session, owner_id, body.name)
    row = PupilName(owner_id=owner_id, name=name, folded=fold_name(name))
    session.add(row)
    session.flush()
    _changed(session, storage, request, user.id, "pupil_name.add", row)
    response.headers["Location"] = f"/api/v1/pupil-names/{row.id}"
    return _public(row)


@router.patch("/{name_id}", response_model=PupilNamePublic, responses=responses(403, 404, 409))
def change_pupil_name(
    name_id: str,
    body: PupilNameUpdate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
) -> PupilNamePublic:
    """Correct a name's spelling on a list you keep."""
    row = visible_name(session, user, name_id)
    row.name = checked_name(session, row.owner_id, body.name, other_than=row.id)
    row.folded = fold_name(row.name)
    _changed(session, storage, request, user.id, "pupil_name.change", row)
    return _public(row)


@router.delete("/{name_id}", status_code=204, responses=responses(404))
def remove_pupil_name(
    name_id: str, request: Request, user: CurrentUser, session: SessionDep, storage: StorageDep
) -> None:
    """Take a name off a list you keep."""
    row = visible_name(session, user, name_id)
    session.delete(row)
    session.flush()
    _changed(session, storage, request, user.id, "pupil_name.remove", row)
