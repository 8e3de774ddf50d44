// parseVtt and isUnsure (api/web/static/js/media.js): the thumbnails track and the transcript's
// unsure words, run under node --test with no browser.
import assert from "node:assert/strict";
import { test } from "node:test";

import { UNSURE_BELOW, isUnsure, parseVtt } from "../../api/web/static/js/media.js";

test("parseVtt reads cues with and without hours, skipping the header and notes", () => {
  const vtt = [
    "WEBVTT",
    "",
    "NOTE made by clipcoach",
    "",
    "00:00.000 --> 00:04.000",
    "sprite.jpg#xywh=0,0,160,90",
    "",
    "1",
    "01:02:03.500 --> 01:02:07.250 align:start position:10%",
    "Good morning everyone.",
    "Today: fractions.",
  ].join("\n");
  assert.deepEqual(parseVtt(vtt), [
    { start: 0, end: 4, text: "sprite.jpg#xywh=0,0,160,90" },
    { start: 3723.5, end: 3727.25, text: "Good morning everyone.\nToday: fractions." },
  ]);
});

test("parseVtt takes Windows line ends and blank runs between cues", () => {
  const vtt = "WEBVTT\r\n\r\n\r\n00:01.000 --> 00:02.000\r\nA\r\n\r\n\r\n00:02.000 --> 00:03.500\r\nB\r\n";
  assert.deepEqual(parseVtt(vtt), [
    { start: 1, end: 2, text: "A" },
    { start: 2, end: 3.5, text: "B" },
  ]);
});

test("parseVtt of a file with no cues is empty", () => {
  assert.deepEqual(parseVtt("WEBVTT\n"), []);
  assert.deepEqual(parseVtt(""), []);
});

test("a word is unsure only with a probability below the threshold", () => {
  assert.equal(isUnsure({ probability: UNSURE_BELOW - 0.01 }), true);
  assert.equal(isUnsure({ probability: UNSURE_BELOW }), false);
  assert.equal(isUnsure({ probability: 0.99 }), false);
  assert.equal(isUnsure({}), false); // an edited word has no probability: not flagged
});
