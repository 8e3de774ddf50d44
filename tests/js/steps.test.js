// Action steps on the home page (api/web/static/js/steps.js): dates and the observation rhythm.
import assert from "node:assert/strict";
import { test } from "node:test";

import { dueText, formatDay } from "../../api/web/static/js/steps.js";

test("a calendar date reads the same in every time zone", () => {
  assert.equal(formatDay("2026-12-11"), "Fri, 11 Dec 2026");
  assert.equal(formatDay(null), "");
});

test("the next observation, for the ECT and for their mentor", () => {
  const ect = { id: "e", name: "Eli Early" };
  const schedule = { ect, induction_start: "2026-09-01", next_observation_due: "2026-12-09", interval_days: 7 };
  assert.equal(dueText(schedule, ect), "Your next observation is due Wed, 9 Dec 2026 (weekly in year one).");
  assert.equal(
    dueText({ ...schedule, interval_days: 14 }, { id: "m" }),
    "Eli Early's next observation is due Wed, 9 Dec 2026 (fortnightly in year two).",
  );
  assert.match(dueText({ ...schedule, induction_start: null }, ect), /^Your next observation: not set/);
});
