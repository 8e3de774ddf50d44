// The pure parts of getting a lesson in (api/web/static/js/lessons.js): chunk sizes and states.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  chunkBytesFor,
  failureReason,
  retentionNotice,
  shareDeletionNote,
  stageName,
  statusText,
  transcriptRetentionNotice,
} from "../../api/web/static/js/lessons.js";

const KiB = 1024;
const MiB = 1024 * KiB;

test("chunks are a tenth of the file, at least 256 KiB and at most 8 MiB", () => {
  assert.equal(chunkBytesFor(0), 256 * KiB);
  assert.equal(chunkBytesFor(1), 256 * KiB);
  assert.equal(chunkBytesFor(2560 * KiB), 256 * KiB);
  assert.equal(chunkBytesFor(10 * MiB), MiB);
  assert.equal(chunkBytesFor(10 * MiB + 1), MiB + 1);
  assert.equal(chunkBytesFor(80 * MiB), 8 * MiB);
  assert.equal(chunkBytesFor(4 * 1024 * MiB), 8 * MiB);
});

test("every chunk size is a whole number of bytes", () => {
  for (const size of [3, 999_999, 12_345_678, 123_456_789]) {
    assert.ok(Number.isInteger(chunkBytesFor(size)), String(size));
  }
});

test("a known failure code reads as its sentence, an unknown one as the server's message", () => {
  assert.match(failureReason({ error_code: "storage_unavailable" }), /file store could not be reached/);
  assert.equal(failureReason({ error_code: "something_new", error_message: "From the server." }), "From the server.");
  assert.match(failureReason({}), /did not recognise/);
});

test("status lines for the lesson list", () => {
  assert.equal(statusText({ status: "ready" }), "Ready");
  assert.equal(statusText({ status: "queued" }), "Waiting to be processed");
  assert.match(statusText({ status: "failed", error_code: "storage_unavailable" }), /^Processing failed\. The file store/);
  assert.equal(statusText({ status: "processing", stage: "no_such_stage", progress: 40 }), "no_such_stage · 40%");
  assert.equal(statusText({ status: "processing", stage: null }), `${stageName(null)} · 0%`);
});

test("the retention notice names the day, and warns when it is close", () => {
  assert.equal(retentionNotice({ deletes_on: null }), null);
  const later = retentionNotice({ deletes_on: "2027-03-04T10:00:00Z", deletion_soon: false });
  assert.equal(later, "Will be deleted on 4 March 2027, with its transcript, clips and comments.");
  const soon = retentionNotice({ deletes_on: "2027-03-04T23:30:00Z", deletion_soon: true });
  assert.match(soon, /^Will be deleted on 4 March 2027, .*Save anything you need before then/);
});

test("the transcript's own retention date is told ahead, and after it the fact of the deletion", () => {
  assert.equal(transcriptRetentionNotice({ transcript_deletes_on: null }), null);
  // 23:30 UTC on 31 May is 1 June in England (BST): dates are England's
  const ahead = transcriptRetentionNotice({ transcript_deletes_on: "2027-05-31T23:30:00Z" });
  assert.match(ahead, /^The transcript will be deleted on 1 June 2027, .*the recording and the coaching stay\.$/);
  const gone = transcriptRetentionNotice({ transcript_deletes_on: "2027-05-31T23:30:00Z", transcripts_deleted_at: "2027-06-01T02:00:00Z" });
  assert.match(gone, /^The transcript was deleted on 1 June 2027 /);
});

test("a live share says when the share period removes it; an ended one does not", () => {
  assert.equal(shareDeletionNote({ deletes_on: null, active: true }), "");
  assert.equal(shareDeletionNote({ deletes_on: "2027-01-10T09:00:00Z", active: true }), " (removed from them on 10 January 2027)");
  assert.equal(shareDeletionNote({ deletes_on: "2027-01-10T09:00:00Z", active: false }), "");
  assert.equal(shareDeletionNote({ deletes_on: "2027-01-10T09:00:00Z", active: true, revoked_at: "2027-01-02T00:00:00Z" }), "");
});
