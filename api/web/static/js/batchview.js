// A coach's batch in words: each file's state, the batch's progress, what can be retried.
// Pure functions over what GET /api/v1/batches/{id} answers, so the page and its tests agree.

import { failureReason, stageName } from "./lessons.js";

// Why a file never became a lesson (the batch route's own codes), beside the lesson failures.
const ITEM_FAILURES = {
  not_a_recording: "This file is not a video or sound recording, so it was left out. Check it is the right file and submit it in a new batch.",
  too_large: "This file is larger than the server accepts for one recording. Split or compress it, then submit it in a new batch.",
  lesson_deleted: "The lesson made from this file has since been deleted.",
};

// An item that failed and has a lesson can be processed again; one that never became a
// lesson cannot (the file is gone: it has to be submitted again).
export const canRetry = (item) => item.status === "failed" && Boolean(item.lesson_id);

// One file's state: `label` (a word or two), `tone` (ok, bad, busy, waiting), `percent`
// for its bar and `detail` (the stage, the reason it failed).
export function itemState(item) {
  if (item.status === "ready") {
    return { label: "Transcribed", tone: "ok", percent: 100, detail: item.reused ? "Already processed earlier: the same recording was reused." : "" };
  }
  if (item.status === "failed") {
    return { label: "Failed", tone: "bad", percent: 0, detail: ITEM_FAILURES[item.error_code] || failureReason(item) };
  }
  if (item.status === "queued") return { label: "Waiting", tone: "waiting", percent: 0, detail: "Waiting for a free worker." };
  const percent = Math.max(0, Math.min(100, Math.round(item.progress || 0)));
  return { label: "Processing", tone: "busy", percent, detail: `${stageName(item.stage)} · ${percent}%` };
}

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

// The whole batch in one line: "2 of 3 transcribed · 1 failed", "Waiting to start".
export function batchSummary(batch) {
  const { total, ready, failed, queued, processing } = batch.counts;
  if (!total) return "No files";
  const parts = [`${ready} of ${plural(total, "file")} transcribed`];
  if (processing) parts.push(`${processing} in progress`);
  if (queued) parts.push(`${queued} waiting`);
  if (failed) parts.push(`${failed} failed`);
  return parts.join(" · ");
}

// How far the batch has got, 0–100: a finished file (transcribed or failed) counts in full.
export function batchPercent(batch) {
  const list = batch.items || [];
  if (!list.length) return 100;
  const done = list.reduce((sum, item) => sum + (item.status === "ready" || item.status === "failed" ? 100 : itemState(item).percent), 0);
  return Math.round(done / list.length);
}

// A badge for the list of batches: finished cleanly, finished with failures, or under way.
export function batchBadge(batch) {
  if (!batch.finished) return { text: "In progress", tone: "busy" };
  if (batch.counts.failed) return { text: `${batch.counts.failed} failed`, tone: "bad" };
  return { text: "Done", tone: "ok" };
}

// The transcript formats a zip may hold, in the order offered, and those picked by default.
export const ZIP_FORMATS = [
  { id: "vtt", label: "Captions (WebVTT)", picked: true },
  { id: "txt", label: "Plain text", picked: true },
  { id: "srt", label: "Subtitles (SRT)", picked: false },
  { id: "json", label: "JSON with word timings", picked: false },
];

// A batch's name from the files chosen when the coach gave none: "3 recordings, 4 Dec 2026".
export function defaultBatchName(count, now = new Date()) {
  const day = now.toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "Europe/London" });
  return `${plural(count, "recording")}, ${day}`;
}
