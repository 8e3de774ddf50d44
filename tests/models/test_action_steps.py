"""The rhythm of observations and the states of an action step, as pure functions."""

from __future__ import annotations

from datetime import date

import pytest

from models.action_steps import (
    ActionStep,
    NotCurrentError,
    StepStatus,
    carry,
    close,
    mark_practised,
    next_observation_due,
)

START = date(2026, 9, 1)


def test_no_induction_start_means_no_rhythm() -> None:
    due = next_observation_due(None, date(2026, 11, 2), date(2026, 11, 3))
    assert (due.induction_year, due.interval_days, due.due) == (None, None, None)


def test_weekly_in_year_one_from_the_last_observation() -> None:
    due = next_observation_due(START, date(2026, 11, 2), date(2026, 11, 3))
    assert (due.induction_year, due.interval_days, due.due) == (1, 7, date(2026, 11, 9))


def test_fortnightly_in_year_two() -> None:
    due = next_observation_due(START, date(2027, 9, 6), date(2027, 9, 7))
    assert (due.induction_year, due.interval_days, due.due) == (2, 14, date(2027, 9, 20))


def test_due_today_without_an_observation_and_overdue_stays_in_the_past() -> None:
    assert next_observation_due(START, None, date(2026, 10, 5)).due == date(2026, 10, 5)
    assert next_observation_due(START, date(2026, 9, 7), date(2026, 10, 5)).due == date(2026, 9, 14)


def test_before_and_after_induction() -> None:
    assert next_observation_due(START, None, date(2026, 8, 20)).due == START
    after = next_observation_due(START, date(2028, 8, 20), date(2028, 9, 1))
    assert (after.induction_year, after.due) == (None, None)
    leap = next_observation_due(date(2028, 2, 29), None, date(2029, 2, 28))
    assert leap.induction_year == 2


def _step() -> ActionStep:
    return ActionStep(
        ect_id="e", set_by="m", instruction="Wait", target_date=date(2026, 12, 1),
        status=StepStatus.open,
    )  # fmt: skip


def test_practised_then_closed_and_then_nothing_changes() -> None:
    step = _step()
    mark_practised(step, "did it", "clip1")
    assert (step.status, step.practice_note, step.evidence_clip_id) == (
        StepStatus.practised, "did it", "clip1",
    )  # fmt: skip
    close(step, "m", "well done")
    assert step.status == StepStatus.closed and step.reviewed_by == "m"
    with pytest.raises(NotCurrentError):
        mark_practised(step, "again", None)
    with pytest.raises(NotCurrentError):
        carry(step, "m", "", date(2026, 12, 8))


def test_carry_ends_the_step_and_opens_a_copy() -> None:
    step = _step()
    step.id = "s1"
    fresh = carry(step, "m", "not yet", date(2026, 12, 8))
    assert step.status == StepStatus.carried
    assert (fresh.instruction, fresh.target_date, fresh.carried_from_id) == (
        "Wait", date(2026, 12, 8), "s1",
    )  # fmt: skip
