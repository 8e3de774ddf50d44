// The school's data policy (GET /api/v1/admin/policy) in plain words, for the admin page.

const days = (n) => (n === 1 ? "1 day" : `${n} days`);

// The policy in plain words, one line per rule (pure: the node tests check it).
export function policyLines(p) {
  const lessons = p.retention_days > 0
    ? `Deleted ${days(p.retention_days)} after upload, with everything made from them. Owners are told ${days(p.retention_warning_days)} ahead and may keep theirs up to ${days(p.retention_owner_extend_days)} longer; an admin, up to ${days(p.retention_max_days)} after upload.`
    : "Kept until someone deletes them.";
  const transcripts = p.retention_transcript_days > 0
    ? `Deleted ${days(p.retention_transcript_days)} after upload (with captions, search and talk analytics); the recording and the coaching are kept. Only an admin can keep them longer.`
    : "Kept as long as their lesson.";
  const shares = p.retention_share_days > 0
    ? `End ${days(p.retention_share_days)} after they were made, or on their own end date if sooner.`
    : "Last until their end date or until they are withdrawn.";
  return [
    ["Pupils' consent for a new lesson", p.consent_default_label],
    ["Research use for a new lesson", p.research_use_default ? "Allowed unless the uploader says no" : "Not allowed unless the uploader says yes"],
    ["Lessons", lessons],
    ["Transcripts", transcripts],
    ["Clips shared with an ECT", shares],
    ["Email", p.email_notifications ? "A digest of how many new items each person has, with a link: never titles, names or lesson content." : "Off: notifications stay in clipcoach."],
  ];
}
