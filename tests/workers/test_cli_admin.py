"""`clipcoach users add`, `pair`, `frameworks load`, and the demo accounts of a first run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from models.account import Pairing, User
from models.accounts import authenticate, user_by_email
from models.audit import AuditEvent
from models.db import session_scope
from models.framework import BUILTIN, Strand
from models.queue import PROCESS_LESSON, InProcessQueue
from models.settings import Settings, get_settings
from tests.conftest import REPO
from workers.cli import _after_migrate_hooks, app

runner = CliRunner()


def test_users_add_and_pair(settings: Settings) -> None:
    result = runner.invoke(
        app, ["users", "add", "--email", "M@School.test", "--name", "Mo", "--role", "mentor"]
    )
    assert result.exit_code == 0, result.output
    password = re.search(r"password: (\S+)", result.output)
    assert password is not None
    ok = runner.invoke(
        app,
        [
            "users",
            "add",
            "--email",
            "e@school.test",
            "--name",
            "Em",
            "--role",
            "ect",
            "--password",
            "a long chosen password",
        ],
    )
    assert ok.exit_code == 0
    assert "password:" not in ok.output
    again = runner.invoke(
        app, ["users", "add", "--email", "m@school.test", "--name", "X", "--role", "ect"]
    )
    assert again.exit_code == 1
    assert "already exists" in again.output

    assert runner.invoke(app, ["pair", "m@school.test", "e@school.test"]).exit_code == 0
    wrong = runner.invoke(app, ["pair", "e@school.test", "m@school.test"])
    assert wrong.exit_code == 1
    assert "not a mentor" in wrong.output
    missing = runner.invoke(app, ["pair", "m@school.test", "nobody@school.test"])
    assert missing.exit_code == 1
    assert "no account for nobody@school.test" in missing.output
    with session_scope(settings.database_url) as session:
        assert authenticate(session, "m@school.test", password.group(1)) is not None
        assert session.scalar(select(func.count()).select_from(Pairing)) == 1


def test_frameworks_load(settings: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "official.yaml"
    copy.write_text(
        (BUILTIN / "ittecf-2024.yaml")
        .read_text()
        .replace("Spacing practice over time", "Official wording on spacing")
    )
    result = runner.invoke(app, ["frameworks", "load", str(copy)])
    assert result.exit_code == 0, result.output
    assert "loaded ittecf-2024" in result.output
    with session_scope(settings.database_url) as session:
        titles = session.scalars(select(Strand.title).where(Strand.framework_id == "ittecf-2024"))
        assert "Official wording on spacing" in set(titles)
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": "x"}')
    bad = runner.invoke(app, ["frameworks", "load", str(broken)])
    assert bad.exit_code == 1
    assert "standards" in bad.output


def test_first_run_seeds_demo_accounts_once(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLIPCOACH_SEED_DEMO", "true")
    get_settings.cache_clear()
    tasks = InProcessQueue()  # records the sample lesson's task; nothing processes it
    _after_migrate_hooks(get_settings(), tasks)
    printed = capsys.readouterr().err
    found = dict(re.findall(r"(\S+@clipcoach\.local)\s+password: (\S+)", printed))
    assert set(found) == {"admin@clipcoach.local", "mentor@clipcoach.local", "ect@clipcoach.local"}
    with session_scope(settings.database_url) as session:
        for email, password in found.items():
            assert authenticate(session, email, password) is not None
        assert session.scalar(select(func.count()).select_from(Pairing)) == 1
    _after_migrate_hooks(get_settings(), tasks)
    assert "password" not in capsys.readouterr().err
    with session_scope(settings.database_url) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 3


def test_first_run_seeds_the_sample_lesson_for_the_demo_ect(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`clipcoach serve` on an empty database: demo accounts and the sample lesson, queued once."""
    from models.lesson import Lesson
    from models.storage import open_storage
    from workers import cli_admin

    tasks = InProcessQueue()  # records what is sent; nothing processes it
    monkeypatch.setattr(settings, "seed_demo", True)
    cli_admin.seed_demo_accounts(settings, tasks)
    cli_admin.seed_demo_accounts(settings, tasks)  # a second start seeds nothing more

    with session_scope(settings.database_url) as session:
        lessons = session.scalars(select(Lesson)).all()
        assert len(lessons) == 1
        owner = user_by_email(session, "ect@clipcoach.local")
        assert owner is not None
        assert lessons[0].owner_id == owner.id
        assert open_storage(settings.storage_url).size(lessons[0].source_key) == (
            cli_admin.SAMPLE_LESSON.stat().st_size
        )
    assert tasks.sent == [(PROCESS_LESSON, (lessons[0].id,))]


def test_users_list_reset_password_deactivate_and_unpair(settings: Settings) -> None:
    """The administration an induction lead does from the shell, each step audited."""
    for email, role in (("m@school.test", "mentor"), ("e@school.test", "ect")):
        added = runner.invoke(
            app, ["users", "add", "--email", email, "--name", email[0].upper(), "--role", role]
        )
        assert added.exit_code == 0, added.output
    assert runner.invoke(app, ["pair", "m@school.test", "e@school.test"]).exit_code == 0

    listed = runner.invoke(app, ["users", "list"])
    assert listed.exit_code == 0, listed.output
    assert re.search(r"e@school\.test\s+ect\s+E\s+paired with m@school\.test", listed.output)

    reset = runner.invoke(app, ["users", "reset-password", "E@School.test"])
    assert reset.exit_code == 0, reset.output
    new = re.search(r"password: (\S+)", reset.output)
    assert new is not None
    with session_scope(settings.database_url) as session:
        assert authenticate(session, "e@school.test", new.group(1)) is not None
    short = runner.invoke(app, ["users", "reset-password", "e@school.test", "--password", "short"])
    assert short.exit_code == 1
    assert "at least 10 characters" in short.output
    assert runner.invoke(app, ["users", "reset-password", "x@school.test"]).exit_code == 1

    assert runner.invoke(app, ["users", "deactivate", "e@school.test"]).exit_code == 0
    with session_scope(settings.database_url) as session:
        assert authenticate(session, "e@school.test", new.group(1)) is None
    assert "(deactivated)" in runner.invoke(app, ["users", "list"]).output
    assert runner.invoke(app, ["users", "reactivate", "e@school.test"]).exit_code == 0

    assert runner.invoke(app, ["unpair", "m@school.test", "e@school.test"]).exit_code == 0
    again = runner.invoke(app, ["unpair", "m@school.test", "e@school.test"])
    assert again.exit_code == 1
    assert "is not paired with" in again.output
    with session_scope(settings.database_url) as session:
        assert session.scalar(select(func.count()).select_from(Pairing)) == 0
        actions = [a for (a,) in session.execute(select(AuditEvent.action).order_by(AuditEvent.id))]
    assert actions == ["user.update"] * 3 + ["pairing.delete"]


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two@@school.test", "sp ace@school.test"])
def test_users_add_refuses_what_is_not_an_email(settings: Settings, email: str) -> None:
    result = runner.invoke(app, ["users", "add", "--email", email, "--name", "X", "--role", "ect"])
    assert result.exit_code == 1
    assert "is not an email address" in result.output
    with session_scope(settings.database_url) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0


def test_worker_started_as_root_prints_no_superuser_warning(settings: Settings) -> None:
    """`clipcoach serve` as root (a school's single server, a container) starts a worker without
    Celery's root warning: the worker accepts JSON only, so the warning is untrue here.
    (`settings` keeps the child's broker folder in the test's data dir.)"""
    check = "from celery.platforms import check_privileges; check_privileges(%r)"
    quiet = subprocess.run(
        [sys.executable, "-c", "import workers.app; " + check % (["json"],)],
        capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    loud = subprocess.run(
        [sys.executable, "-c", check % (["json"],)], capture_output=True, text=True, check=True
    )
    assert "superuser" not in quiet.stderr
    if os.geteuid() == 0:  # where the warning exists at all, it is the filter that removes it
        assert "superuser" in loud.stderr


def test_first_run_output_tells_how_to_sign_in_again_and_never_breaks_an_id(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from models.lesson import Lesson
    from workers import cli_admin

    monkeypatch.setenv("COLUMNS", "30")  # a narrow terminal: narrower than "<id>)."
    cli_admin.seed_demo_accounts(settings, InProcessQueue())
    printed = capsys.readouterr().err
    with session_scope(settings.database_url) as session:
        lesson_id = session.scalars(select(Lesson.id)).one()
    assert any(lesson_id in line for line in printed.splitlines())
    assert "clipcoach users reset-password EMAIL" in printed.replace("\n", " ")
    assert re.search(r"admin\s+admin@clipcoach\.local\s+password: \S+", printed)
