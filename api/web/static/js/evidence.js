// The termly summary's first draft, in plain sentences made from the progress evidence. Pure
// (tested under node): the mentor edits every sentence before use, and nothing here grades.

import { formatDay } from "./steps.js";

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const mean = (values) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);

// The half-term a summary is about by default: the latest with any lessons or steps, else the
// current one (the last listed).
export function defaultTerm(terms) {
  const busy = terms.filter((t) => t.lessons || t.steps_set || t.steps_closed || t.steps_carried || t.steps_practised);
  return (busy.length ? busy[busy.length - 1] : terms[terms.length - 1]) || null;
}

// Paragraphs for `term` (one of progress.terms), with the ECT's current steps.
export function draftParagraphs(progress, term, currentSteps = []) {
  const name = progress.ect.name;
  const out = [];
  const when = `${term.label} (${formatDay(term.start)} to ${formatDay(term.end)})`;
  if (term.lessons) {
    out.push(`During ${when}, ${name} was observed in ${plural(term.lessons, "lesson")}`
      + (term.lessons_clipped ? `; ${term.lessons_clipped} of them ${term.lessons_clipped === 1 ? "was" : "were"} clipped so we could look at moments together.` : "."));
  } else {
    out.push(`No lessons of ${name}'s were recorded in clipcoach during ${when}.`);
  }
  const reviewed = term.steps_set + term.steps_practised + term.steps_closed + term.steps_carried;
  out.push(reviewed
    ? `This half-term ${plural(term.steps_set, "action step was", "action steps were")} set; ${name} practised ${plural(term.steps_practised, "step")}, ${plural(term.steps_closed, "step was", "steps were")} closed and ${plural(term.steps_carried, "was", "were")} carried forward to a later observation.`
    : "No action steps were set or reviewed this half-term.");
  const current = currentSteps.slice(0, 3).map((s) => `“${s.instruction}” (target ${formatDay(s.target_date)})`);
  if (current.length) out.push(`Current focus: ${current.join("; ")}.`);
  const strands = progress.strands.slice(0, 5).map((s) => `${s.code} ${s.title} (${plural(s.clips, "clip")})`);
  if (strands.length) out.push(`Across the induction so far, tagged clips give evidence on: ${strands.join("; ")}.`);
  const talk = progress.talk.filter((t) => t.day >= term.start && t.day <= term.end);
  if (talk.length) {
    const wait = mean(talk.map((t) => t.long_wait_share).filter((v) => v !== null));
    const pace = mean(talk.map((t) => t.questions_per_ten_minutes).filter((v) => v !== null));
    const parts = [];
    if (wait !== null) parts.push(`on average ${Math.round(wait * 100)} % of questions were followed by three seconds or more of wait time`);
    if (pace !== null) parts.push(`there were about ${Math.round(pace * 10) / 10} questions per ten minutes`);
    if (parts.length) out.push(`In the ${plural(talk.length, "lesson")} with talk figures this half-term, ${parts.join(" and ")}. These figures are a starting point for discussion, not a judgement.`);
  }
  out.push("Strengths we discussed: [mentor to complete].");
  out.push("What we agreed to work on next: [mentor to complete].");
  return out;
}
