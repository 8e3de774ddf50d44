// The pure helpers of the notifications bell and page (api/web/static/js/notices.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { ago, badgeText, bellLabel, detailOf, filterChoices } from "../../api/web/static/js/notices.js";

test("the badge shows nothing at 0 and caps at 99+", () => {
  assert.equal(badgeText(0), "");
  assert.equal(badgeText(undefined), "");
  assert.equal(badgeText(1), "1");
  assert.equal(badgeText(99), "99");
  assert.equal(badgeText(100), "99+");
  assert.equal(bellLabel(0), "Notifications, none unread");
  assert.equal(bellLabel(3), "Notifications, 3 unread");
});

test("times read as a person says them", () => {
  const now = Date.parse("2026-12-02T12:00:00Z");
  assert.equal(ago("2026-12-02T11:59:40Z", now), "just now");
  assert.equal(ago("2026-12-02T11:55:00Z", now), "5 min ago");
  assert.equal(ago("2026-12-02T09:00:00Z", now), "3 h ago");
  assert.equal(ago("2026-12-01T09:00:00Z", now), "yesterday");
  assert.equal(ago("2026-11-28T12:00:00Z", now), "4 days ago");
  assert.equal(ago("2026-11-04T12:00:00Z", now), "4 Nov 2026");
  assert.equal(ago("not a time", now), "");
});

test("an item's detail quotes what it is about and says the date", () => {
  assert.equal(detailOf({ kind: "share", subject: "Wait time" }), "“Wait time”");
  assert.equal(detailOf({ kind: "comment", subject: "Y5 fractions", excerpt: "Calm start" }), "“Calm start” · Y5 fractions");
  assert.equal(
    detailOf({ kind: "step_overdue", subject: "Wait 3 s", due: "2026-12-01" }),
    "“Wait 3 s” · was due Tue, 1 Dec 2026",
  );
  assert.equal(detailOf({ kind: "step_due", subject: "Wait 3 s", due: "2026-12-03" }), "“Wait 3 s” · due Thu, 3 Dec 2026");
  assert.equal(detailOf({ kind: "observation_due", subject: "", due: "2026-12-01" }), "due Tue, 1 Dec 2026");
  assert.equal(detailOf({ kind: "observation_due", subject: "Eli Early", due: "2026-12-01" }), "Eli Early · due Tue, 1 Dec 2026");
});

test("the page's filter lists every group with its unread count", () => {
  const choices = filterChoices({ shares: 2, comments: 0, steps: 1 }, 3);
  assert.deepEqual(choices.map((c) => [c.group, c.unread]), [
    ["all", 3], ["shares", 2], ["comments", 0], ["steps", 1], ["observations", 0],
  ]);
});
