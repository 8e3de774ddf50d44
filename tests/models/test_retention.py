"""The retention rules as pure functions: the date a lesson is deleted, the warning, the limits
on keeping it longer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.retention import KeepUntilError, Policy, check_keep_until, deletes_on, in_warning

UPLOAD = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
POLICY = Policy(days=30, warning_days=14, owner_extend_days=30, max_days=365)


def test_a_school_that_keeps_lessons_deletes_nothing() -> None:
    keep = Policy(days=0)
    assert deletes_on(UPLOAD, None, keep) is None
    assert deletes_on(UPLOAD, UPLOAD + timedelta(days=3), keep) is None
    assert not in_warning(None, keep, UPLOAD)


def test_the_date_is_the_period_after_upload_or_a_later_keep_until() -> None:
    assert deletes_on(UPLOAD, None, POLICY) == UPLOAD + timedelta(days=30)
    later = UPLOAD + timedelta(days=50)
    assert deletes_on(UPLOAD, later, POLICY) == later
    # keep_until never shortens the school's period
    assert deletes_on(UPLOAD, UPLOAD + timedelta(days=2), POLICY) == UPLOAD + timedelta(days=30)


def test_the_warning_starts_warning_days_before_the_date() -> None:
    when = UPLOAD + timedelta(days=30)
    assert not in_warning(when, POLICY, when - timedelta(days=14, seconds=1))
    assert in_warning(when, POLICY, when - timedelta(days=14))
    assert in_warning(when, POLICY, when + timedelta(days=1))


@pytest.mark.parametrize(
    ("days", "admin", "code"),
    [
        (-1, False, "keep_until_past"),
        (30 + 30 + 1, False, "keep_until_too_late"),
        (366, True, "keep_until_too_late"),
    ],
)
def test_keep_until_outside_the_limits_is_refused(days: int, admin: bool, code: str) -> None:
    now = UPLOAD + timedelta(days=1)
    with pytest.raises(KeepUntilError) as caught:
        check_keep_until(UPLOAD, UPLOAD + timedelta(days=days), POLICY, admin=admin, now=now)
    assert caught.value.code == code


def test_keep_until_inside_the_limits_is_allowed() -> None:
    now = UPLOAD + timedelta(days=1)
    check_keep_until(UPLOAD, UPLOAD + timedelta(days=60), POLICY, admin=False, now=now)
    check_keep_until(UPLOAD, UPLOAD + timedelta(days=365), POLICY, admin=True, now=now)


def test_keep_until_needs_a_retention_period() -> None:
    with pytest.raises(KeepUntilError) as caught:
        check_keep_until(UPLOAD, UPLOAD + timedelta(days=5), Policy(days=0), admin=True, now=UPLOAD)
    assert caught.value.code == "retention_off"
