// The progress page's charts (charts.js) and the termly summary's draft (evidence.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { TIMELINE_SERIES, groupedBars, shortTerm, ticks } from "../../api/web/static/js/charts.js";
import { defaultTerm, draftParagraphs } from "../../api/web/static/js/evidence.js";

const term = (key, label, counts = {}) => ({
  key, label, start: "2026-09-01", end: "2026-10-31",
  lessons: 0, lessons_clipped: 0, clips: 0, steps_set: 0, steps_practised: 0, steps_closed: 0, steps_carried: 0,
  ...counts,
});

test("ticks are round steps that reach the largest value", () => {
  assert.deepEqual(ticks(0), [0, 1]);
  assert.deepEqual(ticks(3), [0, 1, 2, 3]);
  assert.deepEqual(ticks(7), [0, 2, 4, 6, 8]);
  assert.deepEqual(ticks(1, { fraction: true }), [0, 0.25, 0.5, 0.75, 1]);
});

test("one bar per non-zero value, inside the plot, in its half-term's group", () => {
  const terms = [
    term("2026-1", "Autumn 1 2026/27", { lessons: 3, lessons_clipped: 2, steps_set: 1 }),
    term("2026-2", "Autumn 2 2026/27"),
    term("2026-3", "Spring 1 2026/27", { lessons: 1, steps_closed: 1, steps_carried: 2 }),
  ];
  const geo = groupedBars(terms.map((t) => ({ label: t.label, values: t })), TIMELINE_SERIES, { height: 200, group: 76 });
  assert.equal(geo.marks.length, 6);
  assert.deepEqual(geo.marks.map((m) => [m.item, m.series]), [
    [0, "lessons"], [0, "lessons_clipped"], [0, "steps_set"], [2, "lessons"], [2, "steps_closed"], [2, "steps_carried"],
  ]);
  const tallest = geo.marks[0];
  assert.equal(tallest.y, geo.top); // 3 is the top of the scale
  for (const m of geo.marks) {
    assert.ok(m.y >= geo.top && m.y + m.h <= geo.top + geo.plot + 1e-9);
    assert.ok(m.x >= geo.left + m.item * geo.group && m.x + m.w <= geo.left + (m.item + 1) * geo.group);
  }
  assert.ok(Math.abs(geo.marks[3].h - geo.plot / 3) < 1e-9);
  assert.match(geo.marks[0].title, /^Autumn 1 2026\/27: Lessons observed 3$/);
});

test("missing talk figures draw no bar, zero ones a label; shares use a 0-100 % scale", () => {
  const items = [{ label: "a", values: { w: 0.5 } }, { label: "b", values: { w: null } }, { label: "c", values: { w: 0 } }];
  const geo = groupedBars(items, [{ key: "w", label: "Wait", cls: "s" }], { fraction: true, max: 1 });
  assert.equal(geo.marks.length, 1);
  assert.deepEqual(geo.zeros.map((z) => z.item), [2]); // zero is shown apart from missing
  assert.equal(geo.marks[0].h, geo.plot / 2);
  assert.deepEqual(shortTerm("Spring 2 2026/27"), ["Spr 2", "26/27"]);
});

test("the draft speaks of the half-term's evidence and leaves judgement to the mentor", () => {
  const t = term("2026-1", "Autumn 1 2026/27", { lessons: 2, lessons_clipped: 1, steps_set: 2, steps_practised: 1, steps_closed: 1 });
  const progress = {
    ect: { name: "Eli Early" },
    terms: [t, term("2026-2", "Autumn 2 2026/27")],
    strands: [{ code: "4e", title: "Using questioning", clips: 3 }],
    talk: [
      { day: "2026-09-10", long_wait_share: 0.5, questions_per_ten_minutes: 12 },
      { day: "2026-10-01", long_wait_share: 0.25, questions_per_ten_minutes: null },
      { day: "2026-11-05", long_wait_share: 1, questions_per_ten_minutes: 40 },
    ],
  };
  const steps = [{ instruction: "Wait three seconds", target_date: "2026-12-11" }];
  const text = draftParagraphs(progress, t, steps);
  assert.equal(text[0], "During Autumn 1 2026/27 (Tue, 1 Sept 2026 to Sat, 31 Oct 2026), Eli Early was observed in 2 lessons; 1 of them was clipped so we could look at moments together.");
  assert.match(text[1], /2 action steps were set; Eli Early practised 1 step, 1 step was closed and 0 were carried forward/);
  assert.equal(text[2], "Current focus: “Wait three seconds” (target Fri, 11 Dec 2026).");
  assert.match(text[3], /4e Using questioning \(3 clips\)/);
  assert.match(text[4], /^In the 2 lessons with talk figures this half-term, on average 38 % of questions .* about 12 questions per ten minutes/);
  assert.ok(text.at(-1).includes("[mentor to complete]"));
  assert.ok(!/score|grade|outstanding|good|inadequate|requires improvement/i.test(text.join(" ").replace("not a judgement", "")));
  assert.equal(defaultTerm(progress.terms).key, "2026-1");
  const quiet = draftParagraphs({ ...progress, strands: [], talk: [] }, progress.terms[1]);
  assert.match(quiet[0], /^No lessons of Eli Early's were recorded/);
  assert.equal(quiet[1], "No action steps were set or reviewed this half-term.");
});
