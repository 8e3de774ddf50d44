"""`clipcoach users add`, `clipcoach pair` and `clipcoach frameworks load`: administration from
the command line, through the same model functions as the admin API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import select

from models import audit
from models.account import Pairing, Role, User
from models.accounts import (
    DuplicateEmailError,
    InvalidEmailError,
    PairingError,
    create_user,
    pair,
    seed_demo,
    set_active,
    set_password,
    user_by_email,
)
from models.db import session_scope
from models.framework import FrameworkFileError, load_framework, read_framework_file
from models.queue import PROCESS_LESSON, CeleryQueue, TaskQueue
from models.settings import Settings, get_settings

console = Console(stderr=True)
out = Console()

users_app = typer.Typer(help="Accounts.", no_args_is_help=True)
frameworks_app = typer.Typer(help="The ECF/ITTECF taxonomies.", no_args_is_help=True)


def _migrated() -> Settings:
    from models.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    return settings


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Option(help="Sign-in email.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    role: Annotated[Role, typer.Option(help="admin, coach, mentor or ect.")],
    password: Annotated[
        str | None, typer.Option(help="Leave out to generate one (printed once).")
    ] = None,
) -> None:
    """Create an account."""
    settings = _migrated()
    try:
        with session_scope(settings.database_url) as session:
            user, used = create_user(session, email, name, role, password)
            user_email = user.email
    except (DuplicateEmailError, InvalidEmailError) as exc:
        raise _error(str(exc)) from None
    out.print(f"created {role.value} {user_email}", highlight=False)
    if password is None:
        out.print(f"password: {used}", highlight=False)


def _error(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


@users_app.command("list")
def users_list() -> None:
    """Every account: email, role, name, whether it can sign in, and whom it is paired with."""
    settings = _migrated()
    with session_scope(settings.database_url) as session:
        users = list(session.scalars(select(User).order_by(User.role, User.email)))
        emails = {u.id: u.email for u in users}
        partners: dict[str, list[str]] = {}
        for p in session.scalars(select(Pairing)):
            partners.setdefault(p.mentor_id, []).append(emails[p.ect_id])
            partners.setdefault(p.ect_id, []).append(emails[p.mentor_id])
        rows = [
            (u.email, u.role.value, u.name, u.active, ", ".join(sorted(partners.get(u.id, []))))
            for u in users
        ]
    for email, role, name, active, paired in rows:
        state = "" if active else "  (deactivated)"
        with_ = f"  paired with {paired}" if paired else ""
        out.print(f"{email:<32} {role:<7} {name}{state}{with_}", highlight=False, soft_wrap=True)
    if not rows:
        out.print("no accounts yet: add one with `clipcoach users add`", highlight=False)


@users_app.command("reset-password")
def users_reset_password(
    email: Annotated[str, typer.Argument(help="The account's email.")],
    password: Annotated[
        str | None, typer.Option(help="Leave out to generate one (printed once).")
    ] = None,
) -> None:
    """Give an account a new password; its earlier sessions end."""
    if password is not None and len(password) < 10:
        raise _error("a password needs at least 10 characters")
    settings = _migrated()
    with session_scope(settings.database_url) as session:
        user = user_by_email(session, email)
        if user is None:
            raise _error(f"no account for {email}")
        used = set_password(user, password)
        audit.record(
            session, None, "user.update", "user", user.id, client="cli", fields=["password"]
        )
    out.print(f"new password set for {email}", highlight=False)
    if password is None:
        out.print(f"password: {used}", highlight=False)


def _set_active(email: str, active: bool) -> None:
    settings = _migrated()
    with session_scope(settings.database_url) as session:
        user = user_by_email(session, email)
        if user is None:
            raise _error(f"no account for {email}")
        set_active(user, active)
        audit.record(session, None, "user.update", "user", user.id, client="cli", fields=["active"])
    out.print(f"{'reactivated' if active else 'deactivated'} {email}", highlight=False)


@users_app.command("deactivate")
def users_deactivate(email: Annotated[str, typer.Argument(help="The account's email.")]) -> None:
    """Stop an account signing in (a leaver); its lessons and clips stay."""
    _set_active(email, False)


@users_app.command("reactivate")
def users_reactivate(email: Annotated[str, typer.Argument(help="The account's email.")]) -> None:
    """Let a deactivated account sign in again."""
    _set_active(email, True)


def pair_command(
    mentor_email: Annotated[str, typer.Argument(help="The mentor's email.")],
    ect_email: Annotated[str, typer.Argument(help="The ECT's email.")],
) -> None:
    """Pair a mentor with an ECT: the mentor then sees the ECT's lessons."""
    settings = _migrated()
    try:
        with session_scope(settings.database_url) as session:
            mentor, ect = user_by_email(session, mentor_email), user_by_email(session, ect_email)
            missing = [e for e, u in ((mentor_email, mentor), (ect_email, ect)) if u is None]
            if missing:
                raise PairingError(f"no account for {', '.join(missing)}")
            assert mentor is not None  # noqa: S101 - checked just above
            assert ect is not None  # noqa: S101 - narrows a type the code above guarantees
            pair(session, mentor, ect)
    except PairingError as exc:
        raise _error(str(exc)) from None
    out.print(f"paired mentor {mentor_email} with ECT {ect_email}", highlight=False)


def unpair_command(
    mentor_email: Annotated[str, typer.Argument(help="The mentor's email.")],
    ect_email: Annotated[str, typer.Argument(help="The ECT's email.")],
) -> None:
    """End a pairing: the mentor no longer sees the ECT's lessons."""
    settings = _migrated()
    with session_scope(settings.database_url) as session:
        mentor, ect = user_by_email(session, mentor_email), user_by_email(session, ect_email)
        pairing = (
            session.scalar(
                select(Pairing).where(Pairing.mentor_id == mentor.id, Pairing.ect_id == ect.id)
            )
            if mentor is not None and ect is not None
            else None
        )
        if pairing is None:
            raise _error(f"{mentor_email} is not paired with {ect_email}")
        session.delete(pairing)
        audit.record(session, None, "pairing.delete", "pairing", pairing.id, client="cli")
    out.print(f"unpaired mentor {mentor_email} from ECT {ect_email}", highlight=False)


@frameworks_app.command("load")
def frameworks_load(
    file: Annotated[Path, typer.Argument(help="A framework as YAML or JSON.")],
) -> None:
    """Load a framework (e.g. a school's copy of the official wording) over the built-in one."""
    settings = _migrated()
    if not file.is_file():
        console.print(f"[red]error:[/red] {file}: no such file", highlight=False)
        raise typer.Exit(1)
    try:
        framework = read_framework_file(file)
    except FrameworkFileError as exc:
        console.print(f"[red]error:[/red] {file.name}: {exc}", highlight=False)
        raise typer.Exit(1) from None
    with session_scope(settings.database_url) as session:
        count = load_framework(session, framework, f"file:{file.name}")
    out.print(f"loaded {framework.id} ({framework.name} {framework.version}): {count} strands")


SAMPLE_LESSON = Path(__file__).resolve().parents[1] / "sample_media" / "lesson.mp4"


def seed_demo_accounts(settings: Settings, queue: TaskQueue | None = None) -> None:
    """First run on an empty database: demo accounts, credentials printed once, and the sample
    lesson as the demo ECT's first recording so the mentor has something to clip straight away
    (its processing sent to `queue`, Celery unless one is given)."""
    with session_scope(settings.database_url) as session:
        created = seed_demo(session)
    if not created:
        return
    ect_email = next(email for email, role, _ in created if role == Role.ect)
    if SAMPLE_LESSON.is_file():
        add_sample_lesson(settings, ect_email, SAMPLE_LESSON, queue)
    console.print("[bold]Demo accounts (shown once; change them for real use):[/bold]")
    for email, role, password in created:
        console.print(
            f"  {role.value:<7} {email:<28} password: {password}", highlight=False, soft_wrap=True
        )
    console.print(
        "Sign in at the address above. Lost a password? "
        "`clipcoach users reset-password EMAIL` prints a new one; "
        "`clipcoach users list` shows every account.",
        highlight=False,
        soft_wrap=True,
    )


def add_sample_lesson(
    settings: Settings, owner_email: str, source: Path, queue: TaskQueue | None = None
) -> str:
    """Store `source` as a lesson of `owner_email` and send its processing to `queue` (Celery
    unless one is given)."""
    from models.intake import add_lesson_from_file
    from models.storage import open_storage
    from models.upload import sha256_file

    storage = open_storage(settings.storage_url)
    with session_scope(settings.database_url) as session:
        owner = user_by_email(session, owner_email)
        assert owner is not None, owner_email  # noqa: S101 - narrows a type the code above guarantees
        lesson = add_lesson_from_file(
            session,
            storage,
            source,
            filename=source.name,
            extension=source.suffix,
            sha256=sha256_file(source),
            title="Sample lesson: equivalent fractions",
            owner_id=owner.id,
            content_type="video/mp4",
        )
        lesson_id = lesson.id
    (queue if queue is not None else CeleryQueue()).send(PROCESS_LESSON, lesson_id)
    console.print(
        f"Sample lesson queued for {owner_email} (lesson {lesson_id}).",
        highlight=False,
        soft_wrap=True,  # an id wrapped mid-way cannot be copied
    )
    return lesson_id


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.add_typer(frameworks_app, name="frameworks")
    app.command("pair")(pair_command)
    app.command("unpair")(unpair_command)
