// The school's data policy as the admin page words it (api/web/static/js/policy.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { policyLines } from "../../api/web/static/js/policy.js";

const KEPT = {
  consent_default_label: "All pupils may appear",
  research_use_default: false,
  retention_days: 0,
  retention_warning_days: 14,
  retention_owner_extend_days: 30,
  retention_max_days: 730,
  retention_transcript_days: 0,
  retention_share_days: 0,
  email_notifications: false,
};

test("a school that keeps everything is told so, rule by rule", () => {
  const lines = Object.fromEntries(policyLines(KEPT));
  assert.equal(lines["Pupils' consent for a new lesson"], "All pupils may appear");
  assert.equal(lines.Lessons, "Kept until someone deletes them.");
  assert.equal(lines.Transcripts, "Kept as long as their lesson.");
  assert.match(lines["Clips shared with an ECT"], /until their end date or until they are withdrawn/);
  assert.match(lines.Email, /^Off/);
  assert.match(lines["Research use for a new lesson"], /Not allowed/);
});

test("retention periods read as days, one day as a day", () => {
  const lines = Object.fromEntries(policyLines({
    ...KEPT,
    retention_days: 30,
    retention_warning_days: 1,
    retention_transcript_days: 7,
    retention_share_days: 14,
    email_notifications: true,
  }));
  assert.match(lines.Lessons, /^Deleted 30 days after upload/);
  assert.match(lines.Lessons, /told 1 day ahead/);
  assert.match(lines.Lessons, /up to 730 days after upload/);
  assert.match(lines.Transcripts, /^Deleted 7 days after upload/);
  assert.match(lines.Transcripts, /recording and the coaching are kept/);
  assert.match(lines["Clips shared with an ECT"], /^End 14 days after they were made/);
  assert.match(lines.Email, /never titles, names or lesson content/);
});
