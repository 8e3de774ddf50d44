// The coach's batch in words (api/web/static/js/batchview.js): each file's state, the batch's.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ZIP_FORMATS, batchBadge, batchPercent, batchSummary, canRetry, defaultBatchName, itemState } from "../../api/web/static/js/batchview.js";

const item = (over) => ({ source_name: "y8.mp4", lesson_id: "l1", reused: false, status: "queued", stage: null, progress: 0, error_code: null, error_message: null, ...over });
const batch = (list, finished = false) => ({
  finished,
  items: list,
  counts: {
    total: list.length,
    queued: list.filter((i) => i.status === "queued").length,
    processing: list.filter((i) => i.status === "processing").length,
    ready: list.filter((i) => i.status === "ready").length,
    failed: list.filter((i) => i.status === "failed").length,
  },
});

test("a file's state names the stage and its percentage while processing", () => {
  assert.deepEqual(itemState(item({ status: "processing", stage: "transcribe", progress: 42.4 })), {
    label: "Processing", tone: "busy", percent: 42, detail: "Transcribing · 42%",
  });
  assert.equal(itemState(item({ status: "processing", stage: "probe", progress: 140 })).percent, 100);
  assert.equal(itemState(item({ status: "queued" })).detail, "Waiting for a free worker.");
});

test("a transcribed file says so, and says when an earlier lesson was reused", () => {
  assert.deepEqual(itemState(item({ status: "ready", progress: 100 })), { label: "Transcribed", tone: "ok", percent: 100, detail: "" });
  assert.match(itemState(item({ status: "ready", reused: true })).detail, /already processed earlier/i);
});

test("a failure is said in plain words, never as its code", () => {
  const cut = itemState(item({ status: "failed", error_code: "unreadable_media", error_message: "moov atom not found" }));
  assert.equal(cut.tone, "bad");
  assert.match(cut.detail, /incomplete or damaged/);
  assert.doesNotMatch(cut.detail, /moov|unreadable_media/);
  const notMedia = itemState(item({ status: "failed", lesson_id: null, error_code: "not_a_recording", error_message: "x" }));
  assert.match(notMedia.detail, /not a video or sound recording.*new batch/);
  assert.match(itemState(item({ status: "failed", lesson_id: null, error_code: "too_large" })).detail, /larger than the server accepts/);
  assert.equal(itemState(item({ status: "failed", error_code: "new_code", error_message: "Something odd" })).detail, "Something odd");
});

test("only a failed file that became a lesson can be retried", () => {
  assert.equal(canRetry(item({ status: "failed" })), true);
  assert.equal(canRetry(item({ status: "failed", lesson_id: null })), false);
  assert.equal(canRetry(item({ status: "ready" })), false);
  assert.equal(canRetry(item({ status: "processing" })), false);
});

test("the batch's line counts what is done, under way, waiting and failed", () => {
  const b = batch([item({ status: "ready" }), item({ status: "processing", progress: 50 }), item({ status: "queued" }), item({ status: "failed" })]);
  assert.equal(batchSummary(b), "1 of 4 files transcribed · 1 in progress · 1 waiting · 1 failed");
  assert.equal(batchSummary(batch([item({ status: "ready" })], true)), "1 of 1 file transcribed");
  assert.equal(batchSummary(batch([])), "No files");
});

test("the batch's percentage counts finished files in full, others by their progress", () => {
  const b = batch([item({ status: "ready" }), item({ status: "failed" }), item({ status: "processing", progress: 50 }), item({ status: "queued" })]);
  assert.equal(batchPercent(b), 63);
  assert.equal(batchPercent(batch([])), 100);
});

test("the badge: in progress, done, or how many failed", () => {
  assert.deepEqual(batchBadge(batch([item({ status: "queued" })])), { text: "In progress", tone: "busy" });
  assert.deepEqual(batchBadge(batch([item({ status: "ready" })], true)), { text: "Done", tone: "ok" });
  assert.deepEqual(batchBadge(batch([item({ status: "ready" }), item({ status: "failed" })], true)), { text: "1 failed", tone: "bad" });
});

test("a batch without a name is named after its files and the day in England", () => {
  // 23:30 UTC on 31 March 2026 is already 1 April in London (BST)
  assert.equal(defaultBatchName(3, new Date("2026-03-31T23:30:00Z")), "3 recordings, 1 Apr 2026");
  assert.equal(defaultBatchName(1, new Date("2026-12-03T09:00:00Z")), "1 recording, 3 Dec 2026");
});

test("the zip offers every transcript format the API knows, captions and text picked", () => {
  assert.deepEqual(ZIP_FORMATS.map((f) => f.id).sort(), ["json", "srt", "txt", "vtt"]);
  assert.deepEqual(ZIP_FORMATS.filter((f) => f.picked).map((f) => f.id), ["vtt", "txt"]);
});
