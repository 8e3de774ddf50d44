// Lists and comment threads (api/web/static/js/coaching.js), as the studio and review pages use them.
import assert from "node:assert/strict";
import { test } from "node:test";

import { items, kindName, researchNotice, strandLabel, suggestionLabel, threads } from "../../api/web/static/js/coaching.js";

test("a list from the API, bare or wrapped", () => {
  assert.deepEqual(items([1, 2]), [1, 2]);
  assert.deepEqual(items({ items: [3] }), [3]);
  assert.deepEqual(items({ comments: [4], total: 1 }), [4]);
  assert.deepEqual(items({ total: 0 }), []);
  assert.deepEqual(items(null), []);
  assert.deepEqual(items("text"), []);
});

test("strands and kinds have readable names", () => {
  assert.equal(strandLabel({ code: "S4", title: "Plan well-structured lessons" }), "S4 Plan well-structured lessons");
  assert.equal(strandLabel({ title: "Untitled code" }), "Untitled code");
  assert.equal(kindName("next_step"), "Next step");
  assert.equal(kindName("unheard_of"), "Comment");
});

test("comments nest under their parents, top level by moment, replies by time", () => {
  const list = {
    items: [
      { id: "r2", parent_id: "b", at: 0, created_at: "2026-01-02T10:05:00Z" },
      { id: "b", parent_id: null, at: 30, created_at: "2026-01-01T09:00:00Z" },
      { id: "a", parent_id: null, at: 12.5, created_at: "2026-01-01T10:00:00Z" },
      { id: "r1", parent_id: "b", at: 0, created_at: "2026-01-02T10:00:00Z" },
      { id: "orphan", parent_id: "gone", at: 1, created_at: "2026-01-03T00:00:00Z" },
      { id: "a2", parent_id: null, at: 12.5, created_at: "2026-01-01T09:30:00Z" },
    ],
  };
  const top = threads(list);
  assert.deepEqual(top.map((c) => c.id), ["a2", "a", "b"]); // the reply to a deleted comment is not shown
  assert.deepEqual(top[2].replies.map((c) => c.id), ["r1", "r2"]);
  assert.deepEqual(top[0].replies, []);
});

test("threads leave the API's objects as they were", () => {
  const parent = { id: "p", parent_id: null, at: 1, replies: [] };
  const reply = { id: "c", parent_id: "p", at: 1 };
  threads([parent, reply]);
  assert.deepEqual(parent.replies, []);
});

test("a suggested strand reads as a short chip, cut at a word", () => {
  assert.equal(suggestionLabel({ code: "4m", title: "Giving thinking time" }), "Suggested: 4m Giving thinking time");
  assert.equal(
    suggestionLabel({ code: "4l", title: "Planning questions that make pupils think hard" }),
    "Suggested: 4l Planning questions that make pupils…",
  );
  assert.equal(suggestionLabel({ code: "9z", title: "x".repeat(50) }, 10), `Suggested: 9z ${"x".repeat(10)}…`);
});

test("research use is shown beside the consent, saying what an export holds or that it is left out", () => {
  const allowed = researchNotice(true, "May be used for research (exports)");
  assert.match(allowed, /^Research use: May be used for research \(exports\)\. /);
  assert.match(allowed, /no emails, no video/);
  assert.equal(
    researchNotice(false, "Not for research use: left out of research exports"),
    "Research use: Not for research use: left out of research exports. Its owner or an admin can change that if the consent covers it.",
  );
});
